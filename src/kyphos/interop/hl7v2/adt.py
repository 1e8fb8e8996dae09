"""ADT from the registration system: create or update the patient through the patients room's services.

A01 (admit), A04 (register), A05 (pre-admit), A08 (update), A28 (add person), A31 (update person): the patient
named by PID-3 (the identifier of type MR, else the first; its assigning authority from CX.4) is registered or
brought up to date with PID-5 (name), PID-7 (birth date), PID-8 (sex), PID-11 (address), PID-13 / PID-14 (home and
mobile phone, e-mail) and PID-15 (language). An empty field leaves the value as it is (HL7 v2.5.1 2.5.3: a field
not sent is not changed). A40 merges the duplicate MRG-1 names into the patient PID names. Other ADT events are
recorded as not applicable.
"""

from __future__ import annotations

import hl7
from django.core.exceptions import ValidationError

from kyphos.audit.actor import Actor
from kyphos.errors import InvalidInput
from kyphos.interop.hl7v2.fields import has_segment, hl7_date, repetitions, value
from kyphos.interop.hl7v2.inbound import HANDLERS, Outcome, Race
from kyphos.interop.hl7v2.reading import Header
from kyphos.interop.models import Hl7Message
from kyphos.pathway import services as pathway
from kyphos.patients import services as patients
from kyphos.patients.models import Language, Patient, Sex
from kyphos.patients.services import PatientDetails

UPSERT = {"A01", "A04", "A05", "A08", "A28", "A31"}
# Where each field of the patient comes from, for the ERR segment of a refusal.
PLACE = {
    "mrn": "PID^1^3",
    "family_name": "PID^1^5",
    "given_name": "PID^1^5",
    "date_of_birth": "PID^1^7",
    "sex": "PID^1^8",
    "phone_home": "PID^1^13",
    "email": "PID^1^13",
    "phone_mobile": "PID^1^14",
    "preferred_language": "PID^1^15",
    "address": "PID^1^11",
}
# PID-15 as ISO 639-1 / 639-2 codes or English names (HL7 user table 0296 is local).
LANGUAGES = {"en": "en", "eng": "en", "english": "en", "es": "es", "spa": "es", "spanish": "es"}


def _identifier(message: hl7.Message) -> tuple[str, str]:
    """(assigning authority, MRN) from PID-3: the repetition of type MR, else the first."""
    chosen = 1
    for n in range(1, repetitions(message, "PID", 3) + 1):
        if value(message, "PID", 3, n, 5).upper() == "MR":
            chosen = n
            break
    mrn = value(message, "PID", 3, chosen, 1)
    authority = value(message, "PID", 3, chosen, 4)
    if not mrn:
        raise InvalidInput("PID-3: no patient identifier.", field="PID^1^3")
    if not authority:
        raise InvalidInput("PID-3: the identifier has no assigning authority (CX.4).", field="PID^1^3")
    return authority[:40], mrn


def _contacts(message: hl7.Message) -> dict[str, str]:
    """PID-13 (home: phones and the e-mail of type NET/Internet) and PID-14 (business, taken as mobile when the
    equipment type says CP, cellular)."""
    found: dict[str, str] = {}
    for field in (13, 14):
        for n in range(1, repetitions(message, "PID", field) + 1):
            number = value(message, "PID", field, n, 1) or value(message, "PID", field, n, 12)
            use, equipment = value(message, "PID", field, n, 2).upper(), value(message, "PID", field, n, 3).upper()
            email = value(message, "PID", field, n, 4)
            if use == "NET" or equipment in {"INTERNET", "X.400"}:
                if email:
                    found.setdefault("email", email)
            elif number:
                mobile = equipment == "CP" or use == "ORN" or field == 14
                found.setdefault("phone_mobile" if mobile else "phone_home", number)
    return found


def actor_of(header: Header) -> Actor:
    return Actor.system(f"HL7 {header.sending_application or '?'}"[:150])


def find_patient(message: hl7.Message) -> Patient | None:
    """The patient PID-3 names, or the record it was merged into; None when Kyphos does not know it."""
    if not has_segment(message, "PID"):
        raise InvalidInput("The message has no PID segment.", field="PID")
    authority, mrn = _identifier(message)
    found = list(Patient.objects.filter(assigning_authority=authority, mrn=mrn)[:1])
    patient = found[0] if found else None
    while patient is not None and patient.merged_into_id is not None:  # a retired duplicate: where it went
        patient = Patient.objects.get(pk=patient.merged_into_id)
    return patient


def _address(message: hl7.Message) -> str:
    """PID-11 (XAD), the home address (type H) or else the first: street, other designation, city, state, postal
    code, country, one line each where given."""
    chosen = 1
    for n in range(1, repetitions(message, "PID", 11) + 1):
        if value(message, "PID", 11, n, 7).upper() in {"H", "HP"}:
            chosen = n
            break
    street = value(message, "PID", 11, chosen, 1)
    other = value(message, "PID", 11, chosen, 2)
    city, state, postal = (value(message, "PID", 11, chosen, c) for c in (3, 4, 5))
    country = value(message, "PID", 11, chosen, 6)
    place = " ".join(part for part in (city + ("," if city and (state or postal) else ""), state, postal) if part)
    return "\n".join(line for line in (street, other, place, country) if line)[:500]


def upsert_patient(header: Header, message: hl7.Message) -> Outcome:
    if header.event == "A40":
        return merge(header, message)
    if header.event not in UPSERT:
        return Outcome(
            Hl7Message.Status.NOT_APPLICABLE, f"ADT^{header.event} is recorded; Kyphos does nothing with it."
        )
    patient, text = patient_from_pid(header, message)
    return Outcome(Hl7Message.Status.PROCESSED, text, patient_uuid=patient.uuid)


def patient_from_pid(header: Header, message: hl7.Message, fallback: Patient | None = None) -> tuple[Patient, str]:
    """Register the patient PID names, or bring it up to date with the fields PID carries. ``fallback``: a record
    whose details fill what PID leaves out of a new registration (the duplicate an A40 retires)."""
    if not has_segment(message, "PID"):
        raise InvalidInput("The message has no PID segment.", field="PID")
    authority, mrn = _identifier(message)
    actor = actor_of(header)
    patient = Patient.objects.filter(assigning_authority=authority, mrn=mrn).first()
    sent: dict[str, object] = {}
    family, given = value(message, "PID", 5, 1, 1), value(message, "PID", 5, 1, 2)
    if family:
        sent["family_name"] = family
    if given:
        sent["given_name"] = given
    born_text = value(message, "PID", 7)
    if born_text:
        born = hl7_date(born_text)
        if born is None:
            raise InvalidInput("PID-7: the birth date is not a real date (YYYYMMDD).", field="PID^1^7")
        sent["date_of_birth"] = born
    sex = value(message, "PID", 8).upper()
    if sex:
        sent["sex"] = sex if sex in Sex.values else Sex.OTHER if sex in {"A", "N"} else Sex.UNKNOWN
    sent.update(_contacts(message))
    address = _address(message)
    if address:
        sent["address"] = address
    language = value(message, "PID", 15).lower() or value(message, "PID", 15, 1, 2).lower()
    if language:
        sent["preferred_language"] = LANGUAGES.get(language, Language.OTHER)
    current = (
        {name: getattr(patient, name) for name in patients.IDENTITY_FIELDS}
        if patient
        else {"family_name": "", "given_name": ""}
    )
    if patient is None and fallback is not None:
        sent = {**{name: getattr(fallback, name) for name in patients.IDENTITY_FIELDS}, **sent}
    details = (
        PatientDetails(
            assigning_authority=authority,
            mrn=mrn,
            **{**current, **sent},
        )
        if patient
        else _new_details(authority, mrn, sent)
    )
    try:
        if patient is None:
            patient = patients.register_patient(actor, details)
            text = "Patient registered."
        else:
            changed = patients.update_patient(actor, patient, details, fields=sent.keys())
            text = "Patient updated." if changed else "Patient already up to date."
    except ValidationError as exc:
        if "mrn" in exc.message_dict and Patient.objects.filter(assigning_authority=authority, mrn=mrn).exists():
            raise Race from None  # registered by a message on another connection since we looked
        name, messages = next(iter(exc.message_dict.items()))
        reason = f"{name}: {' '.join(str(m) for m in messages)}"
        raise InvalidInput(reason, field=PLACE.get(name, "PID^1")) from None
    return patient, text


def merge(header: Header, message: hl7.Message) -> Outcome:
    """ADT^A40: PID names the surviving patient, MRG-1 the duplicate to retire (HL7 v2.5.1 3.3.40). The survivor is
    registered or updated from PID as for A08; the duplicate's cases and allergies move to it, through the pathway's
    own service, and both records keep their audit trails."""
    if not has_segment(message, "MRG"):
        raise InvalidInput("ADT^A40 needs an MRG segment naming the patient to merge.", field="MRG")
    prior_mrn, prior_authority = value(message, "MRG", 1, 1, 1), value(message, "MRG", 1, 1, 4)
    if not prior_mrn:
        raise InvalidInput("MRG-1: no identifier of the patient to merge.", field="MRG^1^1")
    authority, _mrn = _identifier(message)
    prior = Patient.objects.filter(assigning_authority=(prior_authority or authority)[:40], mrn=prior_mrn).first()
    survivor, text = patient_from_pid(header, message, fallback=prior)
    if prior is None:
        return Outcome(
            Hl7Message.Status.PROCESSED,
            f"{text} The patient to merge is not known to Kyphos: nothing to merge.",
            patient_uuid=survivor.uuid,
        )
    if prior.pk == survivor.pk:
        raise InvalidInput("MRG-1 names the same patient as PID-3.", field="MRG^1^1")
    if prior.merged_into_id == survivor.pk:
        return Outcome(Hl7Message.Status.PROCESSED, f"{text} Already merged.", patient_uuid=survivor.uuid)
    try:
        moved = pathway.merge_patients(actor_of(header), survivor, prior)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="MRG^1^1") from None
    return Outcome(Hl7Message.Status.PROCESSED, f"{text} Merged; {moved} case(s) moved.", patient_uuid=survivor.uuid)


def _new_details(authority: str, mrn: str, sent: dict[str, object]) -> PatientDetails:
    if "date_of_birth" not in sent:
        raise InvalidInput("PID-7: a new patient needs a birth date.", field="PID^1^7")
    return PatientDetails(
        assigning_authority=authority,
        mrn=mrn,
        family_name=str(sent.get("family_name", "")),
        given_name=str(sent.get("given_name", "")),
        **{k: v for k, v in sent.items() if k not in {"family_name", "given_name"}},  # type: ignore[arg-type]
    )


HANDLERS["ADT"] = upsert_patient
