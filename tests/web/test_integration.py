"""The integration page: the analysts see every message by status with the reason and where it is, open the parsed
message, and replay or resend once the cause is fixed; managers see the traffic but not the patient data inside;
other roles do not see the page; every look is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts import sign_in
from tests.interop.test_oru import inr, oru
from tests.interop.test_siu import receive

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_the_analyst_sees_what_needs_attention_and_the_parsed_message(site: Any, people: dict[str, Any]) -> None:
    from kyphos.audit.models import AuditEntry
    from kyphos.interop.models import Hl7Message

    receive(oru("PAGE-1", "H808001", inr("1.0")))  # an unknown patient: held
    receive(b"MSH|^~\\&|LAB|RIVERSIDE|KYPHOS|HOSP|20261203||ORU^R01|PAGE-2|P|2.5.1\rOBX|1|NM|6301-6^INR^LN||1.0\r")
    admin = client_for(people["admin"])
    listed = admin.get("/integration/", {"show": "attention"})
    assert listed.status_code == 200
    page = listed.content.decode()
    assert "PAGE-1" in page and "Held for review" in page and "the patient is not known" in page
    assert "PAGE-2" in page and "PID" in page  # the error and where: no PID segment
    row = Hl7Message.objects.get(control_id="PAGE-1")
    opened = admin.get(f"/integration/{row.pk}/").content.decode()
    assert "H808001" in opened and "Replay this message" in opened and "OBX-3" in opened
    assert AuditEntry.objects.filter(object_type="hl7_message", object_id=str(row.pk), action="view").exists()
    assert AuditEntry.objects.filter(object_type="hl7_message", action="list", username="t_admin").exists()


def test_a_manager_sees_the_traffic_but_not_the_patient_data(site: Any, people: dict[str, Any]) -> None:
    from kyphos.interop.models import Hl7Message

    receive(oru("PAGE-3", "H808002", inr("1.0")))
    manager = client_for(people["manager"])
    row = Hl7Message.objects.get(control_id="PAGE-3")
    opened = manager.get(f"/integration/{row.pk}/")
    assert opened.status_code == 200
    page = opened.content.decode()
    assert "H808002" not in page and "Testwoman" not in page and "•••" in page
    assert "SUNQUEST" in page  # the header is not patient data
    assert "Replay this message" not in page
    assert manager.post(f"/integration/{row.pk}/again/").status_code == 403


@pytest.mark.parametrize("role", ["scheduler", "nurse", "radiologist", "auditor"])
def test_other_roles_do_not_see_the_page(site: Any, people: dict[str, Any], role: str) -> None:
    client = client_for(people[role])
    assert client.get("/integration/").status_code == 403
    assert "/integration/" not in client.get("/").content.decode()


def test_a_held_result_is_replayed_once_the_case_exists(
    site: Any, people: dict[str, Any], actors: dict[str, Any]
) -> None:
    from kyphos.audit.models import AuditEntry
    from kyphos.interop.models import Hl7Message
    from kyphos.pathway import services
    from tests.conftest import new_patient, referral

    patient = services.patients.register_patient(actors["scheduler"], new_patient("H808003"))
    receive(oru("PAGE-4", "H808003", inr("1.0")))
    row = Hl7Message.objects.get(control_id="PAGE-4")
    admin = client_for(people["admin"])
    admin.post(f"/integration/{row.pk}/again/")
    row.refresh_from_db()
    assert row.status == "held"  # still no case: nothing changes
    services.refer_case(actors["scheduler"], patient, site, referral())
    answer = admin.post(f"/integration/{row.pk}/again/", follow=True)
    assert "Replayed: Processed." in answer.content.decode()
    row.refresh_from_db()
    assert row.status == "processed"
    assert AuditEntry.objects.filter(object_id=str(row.pk), detail="replayed").count() == 2
    again = admin.post(f"/integration/{row.pk}/again/", follow=True).content.decode()
    assert "Only a received message that ended in an error" in again


def test_filters_that_do_not_fit_say_so(site: Any, people: dict[str, Any]) -> None:
    admin = client_for(people["admin"])
    answer = admin.get("/integration/", {"date_from": "2026-12-10", "date_to": "2026-12-01", "show": "nonsense"})
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "The end date is before the start date." in page and "Choose one of the options offered." in page
    assert admin.get("/integration/999999/").status_code == 404


def test_the_parsed_view_numbers_fields_as_the_standard_does(site: Any) -> None:
    from kyphos.web.integration_views import parsed

    segments, problem = parsed(oru("PAGE-5", "H808005", inr("1.0")), patient_data=True)
    assert problem == ""
    msh = {f["number"]: f["value"] for f in segments[0]["fields"]}
    assert (msh[1], msh[2], msh[3], msh[9], msh[10]) == ("|", "^~\\&", "SUNQUEST", "ORU^R01^ORU_R01", "PAGE-5")
    pid = {f["number"]: f["value"] for f in segments[1]["fields"]}
    assert pid[3] == "H808005^^^HOSP^MR"
    hidden, _ = parsed(oru("PAGE-5", "H808005", inr("1.0")), patient_data=False)
    assert {f["value"] for f in hidden[1]["fields"]} == {"•••"} and hidden[0]["fields"] == segments[0]["fields"]
