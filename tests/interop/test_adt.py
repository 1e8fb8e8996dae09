"""ADT from the registration system registers and updates patients through the same service as the referral
form: a new patient appears with the identity the message gives, an update changes only what it carries, and a
message the service refuses is answered AE with the field to blame and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.databases import sql
from tests.interop.test_mllp import err, msa, send

HEADER = "MSH|^~\\&|EPIC|RIVERSIDE|KYPHOS|HOSP|20261203101500||ADT^{event}|{id}|P|2.5.1\r"


def adt(event: str, control_id: str, pid: str) -> bytes:
    return (HEADER.format(event=event, id=control_id) + "EVN|" + event + "\r" + pid + "\r").encode()


REGISTER = (
    "PID|1||999-11-2222^^^SSA^SS~H700001^^^HOSP^MR||Nguyen^Thi^B||19470312|F|||"
    "PO Box 9^^Albany^NY^12201^USA^M~12 Elm St^Apt 3^Brooklyn^NY^11201^USA^H"
    "||+12125550111^PRN^PH~^NET^Internet^thi.nguyen@example.org|+12125550122^WPN^CP|SPA^Spanish"
)


def patient(listener: dict[str, Any], mrn: str) -> dict[str, Any]:
    rows = sql(
        listener["env"],
        "SELECT assigning_authority, family_name, given_name, date_of_birth, sex, phone_home, phone_mobile, email,"
        f" preferred_language, uuid, address FROM patients_patient WHERE mrn = '{mrn}'",  # noqa: S608
    )
    names = ["authority", "family", "given", "born", "sex", "home", "mobile", "email", "language", "uuid", "address"]
    return dict(zip(names, rows[0], strict=True)) if rows else {}


def test_a_new_patient_is_registered_from_pid(listener: dict[str, Any]) -> None:
    (ack,) = send(listener, adt("A04", "ADT-REG-1", REGISTER))
    assert msa(ack)[1:4] == ["AA", "ADT-REG-1", "Patient registered."]
    got = patient(listener, "H700001")
    assert (got["authority"], got["family"], got["given"], str(got["born"])[:10], got["sex"]) == (
        "HOSP", "Nguyen", "Thi", "1947-03-12", "F",
    )  # fmt: skip
    assert (got["home"], got["mobile"], got["email"], got["language"]) == (
        "+12125550111", "+12125550122", "thi.nguyen@example.org", "es",
    )  # fmt: skip
    assert got["address"] == "12 Elm St\nApt 3\nBrooklyn, NY 11201\nUSA"  # the home address (type H)
    linked = sql(listener["env"], "SELECT patient_uuid, status FROM interop_hl7message WHERE control_id = 'ADT-REG-1'")
    assert str(linked[0][0]).replace("-", "") == str(got["uuid"]).replace("-", "") and linked[0][1] == "processed"
    audited = sql(
        listener["env"],
        "SELECT username, action FROM audit_auditentry WHERE object_type = 'patient' AND detail = 'registered'",
    )
    assert ("HL7 EPIC", "create") in audited


def test_an_update_changes_only_what_it_carries(listener: dict[str, Any]) -> None:
    send(listener, adt("A04", "ADT-UPD-0", REGISTER.replace("H700001", "H700002")))
    (ack,) = send(listener, adt("A08", "ADT-UPD-1", "PID|1||H700002^^^HOSP^MR||Nguyen-Tran^Thi||||||||+12125550999"))
    assert msa(ack)[1:4] == ["AA", "ADT-UPD-1", "Patient updated."]
    got = patient(listener, "H700002")
    assert (got["family"], got["home"]) == ("Nguyen-Tran", "+12125550999")
    assert (str(got["born"])[:10], got["email"], got["mobile"], got["language"]) == (
        "1947-03-12", "thi.nguyen@example.org", "+12125550122", "es",
    )  # fmt: skip  # not sent: unchanged
    (again,) = send(listener, adt("A31", "ADT-UPD-2", "PID|1||H700002^^^HOSP^MR||Nguyen-Tran^Thi"))
    assert msa(again)[3] == "Patient already up to date."
    changes = sql(
        listener["env"],
        "SELECT detail FROM audit_auditentry WHERE action = 'update' AND object_type = 'patient'",
    )
    assert ("changed: family_name, phone_home",) in changes


@pytest.mark.parametrize(
    "pid,place,reason",
    [
        ("PID|1||H700010^^^HOSP^MR||Doe^Jane||20991231|F", "PID^1^7", "The date of birth is in the future."),
        ("PID|1||H700011^^^HOSP^MR||Doe^Jane||19500230|F", "PID^1^7", "not a real date"),
        ("PID|1||H700012^^^^MR||Doe^Jane||19500101|F", "PID^1^3", "no assigning authority"),
        ("PID|1||H700013^^^HOSP^MR||Doe^Jane", "PID^1^7", "a new patient needs a birth date"),
        ("PID|1||H700014^^^HOSP^MR||^Jane||19500101|F", "PID^1^5", "family_name: Enter the family name."),
        ("PID|1||bad mrn!^^^HOSP^MR||Doe^Jane||19500101|F", "PID^1^3", "mrn: This is not an MRN"),
    ],
)
def test_what_the_service_refuses_is_answered_ae_and_changes_nothing(
    listener: dict[str, Any], pid: str, place: str, reason: str
) -> None:
    before = sql(listener["env"], "SELECT count(*) FROM patients_patient")[0][0]
    control = f"ADT-BAD-{pid[10:18]}"
    (ack,) = send(listener, adt("A04", control, pid))
    assert msa(ack)[1] == "AE", ack
    where, why = err(ack)
    assert where == place and reason in why, (where, why)
    assert sql(listener["env"], "SELECT count(*) FROM patients_patient")[0][0] == before
    stored = sql(
        listener["env"], f"SELECT status, error_location FROM interop_hl7message WHERE control_id = '{control}'"
    )  # noqa: S608
    assert stored == [("error", place)]


def test_other_adt_events_are_recorded_as_not_applicable(listener: dict[str, Any]) -> None:
    (ack,) = send(listener, adt("A03", "ADT-A03", "PID|1||H700001^^^HOSP^MR"))
    assert msa(ack)[1] == "AA" and "A03 is recorded" in msa(ack)[3]
    assert sql(listener["env"], "SELECT status FROM interop_hl7message WHERE control_id = 'ADT-A03'") == [
        ("not_applicable",)
    ]
