"""ORU^R01 from the laboratory files results on the patient's open case through the same service as hand entry:
units converted, a high INR puts the stop on the case (the banner and the day list count it), a correction
replaces the value and says so, and a result Kyphos cannot attach is held for review, never dropped.

In-process through ``inbound.receive`` (what the listener runs per message), as in test_siu.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.interop.test_mllp import err, msa
from tests.interop.test_siu import receive


def oru(control_id: str, mrn: str, *observations: str, order: str = "LAB-77", facility: str = "RIVERSIDE") -> bytes:
    from kyphos import clock

    taken = (clock.current() - timedelta(hours=2)).strftime("%Y%m%d%H%M%z")
    lines = [
        f"MSH|^~\\&|SUNQUEST|{facility}|KYPHOS|HOSP|20261203101500||ORU^R01^ORU_R01|{control_id}|P|2.5.1",
        f"PID|1||{mrn}^^^HOSP^MR||Testwoman^Ada||19480314|F",
        f"OBR|1|PLC-1|{order}|COAG^Coagulation panel^L|||{taken}",
    ]
    for n, obx in enumerate(observations, start=1):
        lines.append(f"OBX|{n}|{obx}".replace("{taken}", taken))
    return ("\r".join(lines) + "\r").encode()


INR = "NM|6301-6^INR^LN||{value}|{{INR}}|0.8-1.2|H|||{status}|||{{taken}}"


def inr(value: str, status: str = "F") -> str:
    return INR.format(value=value, status=status)


def current(case: Any, code: str) -> list[Any]:
    from kyphos.labs import services

    return [r for r in services.results(case) if r.code == code]


def test_a_high_inr_is_filed_and_raises_the_stop_the_day_list_counts(make_case: Any) -> None:
    from kyphos.interop.models import Hl7Message

    case = make_case("scheduled")
    stops = case.open_stops
    ack = receive(oru("ORU-1", case.patient.mrn, inr("2.4")))
    assert msa(ack)[1:4] == ["AA", "ORU-1", "1 result(s) recorded."]
    (result,) = current(case, "inr")
    assert (result.value, result.source, result.status, result.loinc) == (Decimal("2.40"), "hl7", "final", "6301-6")
    case.refresh_from_db()
    assert "labs.inr_high" in [f["code"] for f in case.findings]
    assert case.open_stops == stops + 1
    row = Hl7Message.objects.get(control_id="ORU-1")
    assert (row.status, row.case_uuid) == ("processed", case.uuid)


def test_a_correction_replaces_the_value_keeps_the_old_one_and_clears_the_stop(make_case: Any) -> None:
    from kyphos.labs.models import LabResult

    case = make_case("scheduled")
    stops = case.open_stops
    receive(oru("ORU-2", case.patient.mrn, inr("2.4")))
    receive(oru("ORU-3", case.patient.mrn, inr("1.1", "C")))
    (now,) = current(case, "inr")
    assert (now.value, now.status) == (Decimal("1.10"), "corrected")
    old = LabResult.objects.get(pk=now.corrects_id)
    assert old.value == Decimal("2.40") and old.superseded_at is not None
    case.refresh_from_db()
    assert "labs.inr_high" not in [f["code"] for f in case.findings] and case.open_stops == stops
    assert case.events.filter(summary__startswith="Lab corrected: INR 2.40 → 1.10").exists()
    # The laboratory sending the corrected result again (a new control id) changes nothing.
    receive(oru("ORU-4", case.patient.mrn, inr("1.1", "C")))
    assert LabResult.objects.filter(case=case, code="inr").count() == 2


def test_each_result_of_a_message_has_its_timeline_line_and_audit_entry_and_a_repeat_inside_it_corrects(
    make_case: Any,
) -> None:
    from kyphos.audit.models import AuditEntry
    from kyphos.labs.models import LabResult

    case = make_case("scheduled")
    ack = receive(
        oru(
            "ORU-40",
            case.patient.mrn,
            inr("1.0"),
            "NM|777-3^Platelets^LN||240|10*3/uL|||||F",
            inr("1.2", "C"),  # the same result (order and OBX-3/4) again in the same message, corrected
        )
    )
    assert msa(ack)[1] == "AA"
    (now,) = current(case, "inr")
    assert (now.value, now.status) == (Decimal("1.20"), "corrected")
    assert LabResult.objects.get(pk=now.corrects_id).superseded_at is not None
    lines = list(case.events.filter(summary__startswith="Lab").values_list("summary", flat=True))
    assert sorted(lines) == [
        "Lab corrected: INR 1.00 → 1.20 (Corrected)",
        "Lab: INR 1.00",
        "Lab: Platelet count 240.00",
    ]
    audited = AuditEntry.objects.filter(object_type="lab", patient_uuid=case.patient.uuid)
    assert sorted(audited.values_list("action", flat=True)) == ["create", "create", "update"]


def test_units_are_converted_to_the_ones_kyphos_keeps(make_case: Any) -> None:
    case = make_case("scheduled")
    ack = receive(
        oru(
            "ORU-5",
            case.patient.mrn,
            "NM|777-3^Platelets^LN||182|10*3/uL|||||F",
            "NM|718-7^Hemoglobin^LN||121|g/L|||||F",
            "NM|2160-0^Creatinine^LN||97|umol/L|||||F",
            "NM|98979-8^eGFR^LN||64|mL/min/1.73m2|||||F",
            "NM|2093-3^Cholesterol^LN||190|mg/dL|||||F",
        )
    )
    assert msa(ack)[3] == "4 result(s) recorded. Not used: 2093-3."
    got = {code: current(case, code)[0].value for code in ("platelets", "hemoglobin", "creatinine")}
    assert got == {"platelets": Decimal("182.00"), "hemoglobin": Decimal("12.10"), "creatinine": Decimal("1.10")}


def test_a_sites_own_codes_are_mapped(make_case: Any, site: Any) -> None:
    from kyphos.interop.models import SiteInterface

    SiteInterface.objects.create(site=site, lab_codes={"PTINR": "inr"})
    case = make_case("scheduled")
    receive(oru("ORU-6", case.patient.mrn, "NM|PTINR^Protime INR^L||1.0||||||F"))
    assert [r.value for r in current(case, "inr")] == [Decimal("1.00")]


@pytest.mark.parametrize(
    "obx,place,reason",
    [
        (INR.format(value="1.1", status="F").replace("{INR}", "mg"), "OBX^1^6", "cannot convert the unit"),
        (inr("high"), "OBX^1^5", "is not a number"),
        (inr("45"), "OBX^1^5", "is not a possible INR value"),
        ("ST|2106-3^hCG^LN||maybe||||||F", "OBX^1^5", "neither positive nor negative"),
    ],
)
def test_a_result_kyphos_cannot_file_is_refused_with_the_place_and_files_nothing(
    make_case: Any, obx: str, place: str, reason: str
) -> None:
    case = make_case("scheduled")
    ack = receive(oru("ORU-BAD", case.patient.mrn, "NM|777-3^Platelets^LN||182|10*9/L|||||F", obx))
    assert msa(ack)[1] == "AE"
    location, text = err(ack)
    assert location == place.replace("OBX^1", "OBX^2") and reason in text
    assert current(case, "platelets") == []  # the whole message or nothing


def test_results_for_a_patient_with_no_open_case_are_held_then_filed_on_replay(
    site: Any, actors: dict[str, Any]
) -> None:
    from kyphos.interop.hl7v2.inbound import replay
    from kyphos.interop.models import Hl7Message
    from kyphos.pathway import services
    from tests.conftest import new_patient, referral

    unknown = receive(oru("ORU-7", "H404404", inr("1.0")))
    assert msa(unknown)[1] == "AA" and "not known to Kyphos" in msa(unknown)[3]
    patient = services.patients.register_patient(actors["scheduler"], new_patient("H404405"))
    held = receive(oru("ORU-8", "H404405", inr("1.0")))
    assert "has no open case" in msa(held)[3]
    rows = {r.control_id: r for r in Hl7Message.objects.filter(status="held")}
    assert set(rows) == {"ORU-7", "ORU-8"}
    case = services.refer_case(actors["scheduler"], patient, site, referral())
    replay(rows["ORU-8"])
    rows["ORU-8"].refresh_from_db()
    assert (rows["ORU-8"].status, rows["ORU-8"].case_uuid) == ("processed", case.uuid)
    assert [r.value for r in current(case, "inr")] == [Decimal("1.00")]


def test_a_negative_hcg_closes_the_pregnancy_test_task(make_case: Any, actors: dict[str, Any]) -> None:
    from kyphos.pathway import kernel
    from kyphos.pathway.models import TaskKind
    from kyphos.pathway.policy import Role

    case = make_case("scheduled")
    kernel.open_task(case, TaskKind.HCG_TEST, Role.WARD_NURSE, case.created_at, case.appointment.start)
    receive(oru("ORU-9", case.patient.mrn, "CWE|2106-3^hCG urine^LN||260385009^Negative^SCT||||||F"))
    (result,) = current(case, "hcg")
    assert result.positive is False
    assert case.tasks.get(kind="hcg").status == "done"


@pytest.mark.parametrize(
    "vendor",
    [
        # An older laboratory system: v2.3, its own delimiters, LF line ends, no OBX-14 (the OBR-7 time counts).
        "MSH#$*@%#LIS#RIVERSIDE#KYPHOS#HOSP#20261203##ORU$R01#V23-1#P#2.3\nPID#1##{mrn}$$$HOSP$MR\n"
        "OBR#1##ORD9#COAG$Coag$L###{taken}\nOBX#1#NM#34714-6$INR$LN##1.3#INR#####F\n",
        # A v2.7 sender with MSH-18 UTF-8, SN values and a coded hCG.
        "MSH|^~\\&|CERNER|RIVERSIDE|KYPHOS|HOSP|20261203||ORU^R01^ORU_R01|V27-1|P|2.7|||AL|NE||UNICODE UTF-8\r"
        "PID|1||{mrn}^^^HOSP^MR\rOBR|1||ORD10|COAG^Coag^L|||{taken}\r"
        "OBX|1|SN|6301-6^INR^LN||=^1.3|{{INR}}|||||F\r",
    ],
)
def test_laboratories_of_other_makes_and_versions_are_read(make_case: Any, vendor: str) -> None:
    from kyphos import clock

    case = make_case("scheduled")
    taken = (clock.current() - timedelta(hours=1)).strftime("%Y%m%d%H%M%z")
    raw = vendor.format(mrn=case.patient.mrn, taken=taken).encode()
    ack = receive(raw)
    separator = ack.decode()[3]
    fields = next(s for s in ack.decode().split("\r") if s.startswith("MSA")).split(separator)
    assert fields[1] in {"AA", "CA"}, ack
    assert [r.value for r in current(case, "inr")] == [Decimal("1.30")]
