"""ADT^A40: the registration system merges a duplicate record into the surviving patient. The duplicate's cases
and allergies move to the survivor, each case's history intact and saying so; both records stay with their own
audit trail; a repeat changes nothing and a merge into itself is refused. In-process, as test_siu.py."""

from __future__ import annotations

from typing import Any

from tests.interop.test_mllp import err, msa
from tests.interop.test_siu import receive


def a40(control_id: str, survivor: str, retired: str) -> bytes:
    return (
        f"MSH|^~\\&|EPIC|RIVERSIDE|KYPHOS|HOSP|20261203101500||ADT^A40^ADT_A39|{control_id}|P|2.5.1\r"
        "EVN|A40\r"
        f"PID|1||{survivor}^^^HOSP^MR||Testwoman^Ada||19480314|F\r"
        f"MRG|{retired}^^^HOSP^MR\r"
    ).encode()


def test_a_merge_moves_the_duplicates_cases_and_allergies_and_keeps_both_records(
    make_case: Any, actors: dict[str, Any]
) -> None:
    from kyphos.audit.models import AuditEntry
    from kyphos.patients import services as patients
    from kyphos.patients.models import Patient

    kept, duplicate = make_case("triaged"), make_case("scheduled")
    patients.record_allergy(actors["nurse"], duplicate.patient, "drug", "Penicillin", "rash")
    ack = receive(a40("A40-1", kept.patient.mrn, duplicate.patient.mrn))
    assert msa(ack)[1:4] == ["AA", "A40-1", "Patient already up to date. Merged; 1 case(s) moved."]
    survivor, retired = Patient.objects.get(pk=kept.patient.pk), Patient.objects.get(pk=duplicate.patient.pk)
    assert retired.merged_into == survivor and retired.mrn == duplicate.patient.mrn
    duplicate.refresh_from_db()
    assert duplicate.patient == survivor and duplicate.stage == "scheduled"
    assert set(survivor.cases.values_list("uuid", flat=True)) == {kept.uuid, duplicate.uuid}
    assert [a.substance for a in survivor.allergies.all()] == ["Penicillin"]
    assert survivor.allergy_status == "recorded"
    assert duplicate.events.filter(summary__contains=f"MRN {retired.mrn} is now MRN {survivor.mrn}").exists()
    assert duplicate.events.filter(kind="referred").exists()  # the history came along
    for who in (survivor, retired):
        assert AuditEntry.objects.filter(patient_uuid=who.uuid, object_type="patient", username="HL7 EPIC").exists()
    # The retired record's version before the merge is kept, active, as it was.
    (before,) = retired.versions.all()
    assert (before.version, before.as_patient().merged_into_id, retired.version) == (1, None, 2)
    again = receive(a40("A40-2", survivor.mrn, retired.mrn))
    assert msa(again)[3] == "Patient already up to date. Already merged."


def test_results_for_the_retired_record_reach_the_survivors_case(make_case: Any, actors: dict[str, Any]) -> None:
    from kyphos.patients import services as patients
    from tests.conftest import new_patient
    from tests.interop.test_oru import current, inr, oru

    kept = make_case("scheduled")
    duplicate = patients.register_patient(actors["scheduler"], new_patient("H777001"))
    receive(a40("A40-3", kept.patient.mrn, duplicate.mrn))
    ack = receive(oru("ORU-M1", duplicate.mrn, inr("1.0")))
    assert msa(ack)[3] == "1 result(s) recorded."
    assert len(current(kept, "inr")) == 1


def test_a_merge_into_itself_or_without_mrg_is_refused(make_case: Any) -> None:
    case = make_case("triaged")
    same = receive(a40("A40-4", case.patient.mrn, case.patient.mrn))
    assert msa(same)[1] == "AE" and err(same) == ("MRG^1^1", "MRG-1 names the same patient as PID-3.")
    bare = receive(a40("A40-5", case.patient.mrn, "X").replace(b"MRG|X^^^HOSP^MR\r", b""))
    assert msa(bare)[1] == "AE" and err(bare)[0] == "MRG"


def test_a_merge_of_an_unknown_duplicate_only_updates_the_survivor(make_case: Any) -> None:
    case = make_case("triaged")
    ack = receive(a40("A40-6", case.patient.mrn, "H000000"))
    assert msa(ack)[3] == "Patient already up to date. The patient to merge is not known to Kyphos: nothing to merge."


def test_the_case_search_finds_the_survivor_by_the_old_mrn(make_case: Any, people: dict[str, Any]) -> None:
    from django.test import Client

    from tests.accounts import sign_in

    kept, duplicate = make_case("triaged"), make_case("referred")
    old_mrn = duplicate.patient.mrn
    receive(a40("A40-7", kept.patient.mrn, old_mrn))
    client = Client()
    sign_in(client, people["scheduler"])
    page = client.get("/cases/", {"text": old_mrn}).content.decode()
    assert str(kept.uuid) in page and str(duplicate.uuid) in page  # both cases now belong to the survivor
