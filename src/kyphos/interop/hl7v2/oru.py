"""ORU^R01 from the laboratory: the clotting and other pre-procedure results, through the labs room's ``record_lab``.

HL7 v2.5.1 chapter 7. Each OBX is one result: its test is found by LOINC (OBX-3, or its alternate code) or by the
site's own code map; its value (OBX-5) is converted to the unit Kyphos keeps (OBX-6); its time is OBX-14, else
OBR-7; its status is OBX-11 (F final, C corrected, P or R preliminary; X, I, D and others carry no value and are
skipped). The same lab rules as hand entry then apply: a high INR puts the stop finding on the case and the day
list. A correction (C) names the same result (filler order number OBR-3 and OBX-3/OBX-4) and replaces the value,
keeping the old one as superseded.

A result for a patient Kyphos does not know, or with no open case, is accepted (AA) and **held for review** on the
integration page, never dropped; replayed once the patient's case exists.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

import hl7
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery

from kyphos.errors import InvalidInput
from kyphos.interop.hl7v2.adt import actor_of, find_patient
from kyphos.interop.hl7v2.fields import value
from kyphos.interop.hl7v2.inbound import HANDLERS, Outcome
from kyphos.interop.hl7v2.reading import Header
from kyphos.interop.hl7v2.sites import hl7_moment, site_named
from kyphos.interop.models import Hl7Message, SiteInterface
from kyphos.labs import codes
from kyphos.labs import services as labs
from kyphos.labs.models import ResultStatus
from kyphos.pathway.models import Case
from kyphos.pathway.stages import TERMINAL
from kyphos.rules.labs import tests as lab_tests

STATUSES = {
    "F": ResultStatus.FINAL,
    "C": ResultStatus.CORRECTED,
    "P": ResultStatus.PRELIMINARY,
    "R": ResultStatus.PRELIMINARY,
}
POSITIVE = {"POS", "POSITIVE", "DETECTED", "REACTIVE", "10828004"}
NEGATIVE = {"NEG", "NEGATIVE", "NOT DETECTED", "NONREACTIVE", "NON-REACTIVE", "260385009"}


def _test_of(message: hl7.Message, n: int, local: dict[str, str], loinc: dict[str, str]) -> str | None:
    """The test an OBX reports: its code (OBX-3.1, or the alternate OBX-3.4) by LOINC, else by the site's map."""
    for code_at, system_at in ((1, 3), (4, 6)):
        code = value(message, "OBX", 3, 1, code_at, occurrence=n)
        if not code:
            continue
        system = value(message, "OBX", 3, 1, system_at, occurrence=n).upper()
        if system in {"LN", "LOINC", ""} and code in loinc:
            return loinc[code]
        if code in local:
            return local[code]
    return None


def handle(header: Header, message: hl7.Message) -> Outcome:
    if header.event != "R01":
        return Outcome(
            Hl7Message.Status.NOT_APPLICABLE, f"ORU^{header.event} is recorded; Kyphos does nothing with it."
        )
    patient = find_patient(message)
    if patient is None:
        return Outcome(Hl7Message.Status.HELD, "Held for review: the patient is not known to Kyphos.")
    codes_of_site = SiteInterface.objects.filter(site_id=OuterRef("site_id")).values("lab_codes")[:1]
    cases = list(
        Case.objects.filter(patient=patient)
        .exclude(stage__in=TERMINAL)
        .select_related("site")
        # What filing a result reads, the site's code map with it, in one narrow query (the feed's hot path).
        .only(
            *("id", "uuid", "patient_id", "site_id", "stage", "findings", "open_stops", "version"),
            *(f"site__{name}" for name in ("code", "name", "time_zone", "inr_max", "lab_freshness_days")),
        )
        .annotate(site_lab_codes=Subquery(codes_of_site))
    )
    for case in cases:
        case.patient = patient
    if len(cases) > 1:  # the facility that sent it, or the patient's location, says which
        site = site_named(value(message, "PV1", 3, 1, 4), header.sending_facility)
        cases = [c for c in cases if site is not None and c.site_id == site.pk] or cases
    if len(cases) != 1:
        why = "has no open case" if not cases else "has more than one open case"
        return Outcome(Hl7Message.Status.HELD, f"Held for review: the patient {why}.", patient_uuid=patient.uuid)
    case = cases[0]
    mapped = case.site_lab_codes
    if isinstance(mapped, str):  # SQLite hands a JSON column read through a subquery back as text
        mapped = json.loads(mapped)
    local = {str(k): str(v) for k, v in (mapped or {}).items()}
    loinc = {t.loinc: t.code for t in lab_tests().values()} | codes.ALSO_LOINC
    actor = actor_of(header)
    order, observed_at = "", ""
    entries: list[labs.LabEntry] = []
    skipped: list[str] = []
    obr = n = 0
    for segment in message:
        kind = str(segment[0])
        if kind == "OBR":
            obr += 1
            order = value(message, "OBR", 3, occurrence=obr) or value(message, "OBR", 2, occurrence=obr)
            observed_at = value(message, "OBR", 7, occurrence=obr)
            continue
        if kind != "OBX":
            continue
        n += 1
        where = f"OBX^{n}"
        code = _test_of(message, n, local, loinc)
        status = STATUSES.get(value(message, "OBX", 11, occurrence=n).upper())
        if code is None or status is None:
            skipped.append(value(message, "OBX", 3, occurrence=n) or "?")
            continue
        moment_text = value(message, "OBX", 14, occurrence=n) or observed_at
        taken_at = hl7_moment(moment_text, case.site.zone) if moment_text else None
        if taken_at is None:
            raise InvalidInput(f"{where}^14: the sample time is missing or not a real time.", field=f"{where}^14")
        number, positive = _value(message, n, code)
        external = f"{order}|{value(message, 'OBX', 3, occurrence=n)}|{value(message, 'OBX', 4, occurrence=n)}"
        entry = labs.LabEntry(code, taken_at, number, positive, status, external)
        try:
            labs.check(entry)  # each OBX on its own first, so a refusal names the one to blame
        except ValidationError as exc:
            name, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
            column = {"taken_at": 14}.get(name, 5)
            raise InvalidInput(f"{where}: {' '.join(str(m) for m in messages)}", field=f"{where}^{column}") from None
        entries.append(entry)
    filed = labs.record_labs(actor, case, entries, source="hl7") if entries else []
    taken = len(filed)
    if not taken:
        return Outcome(
            Hl7Message.Status.NOT_APPLICABLE,
            "No result Kyphos uses in this message.",
            patient_uuid=patient.uuid,
            case_uuid=case.uuid,
        )
    note = f"{taken} result(s) recorded." + (f" Not used: {', '.join(skipped[:10])}." if skipped else "")
    return Outcome(Hl7Message.Status.PROCESSED, note, patient_uuid=patient.uuid, case_uuid=case.uuid)


def _value(message: hl7.Message, n: int, code: str) -> tuple[Decimal | None, bool | None]:
    where = f"OBX^{n}"
    text = value(message, "OBX", 5, occurrence=n)
    if code == "hcg":
        words = {text.upper(), value(message, "OBX", 5, 1, 2, occurrence=n).upper()}
        if words & POSITIVE:
            return None, True
        if words & NEGATIVE:
            return None, False
        raise InvalidInput(f"{where}^5: the pregnancy test is neither positive nor negative.", field=f"{where}^5")
    if value(message, "OBX", 2, occurrence=n).upper() == "SN":  # structured numeric: comparator ^ number
        comparator = text
        text = value(message, "OBX", 5, 1, 2, occurrence=n) if comparator in {"", "="} else ""
    try:
        number = Decimal(text.replace(",", "."))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{where}^5: “{text[:20]}” is not a number.", field=f"{where}^5") from None
    if not number.is_finite():
        raise InvalidInput(f"{where}^5: “{text[:20]}” is not a number.", field=f"{where}^5")
    unit = value(message, "OBX", 6, occurrence=n).replace(" ", "").upper()
    factor = codes.UNITS.get(code, {}).get(unit)
    if factor is None:
        raise InvalidInput(f"{where}^6: Kyphos cannot convert the unit “{unit}” for this test.", field=f"{where}^6")
    return (number * factor).quantize(Decimal("0.01")), None


HANDLERS["ORU"] = handle
