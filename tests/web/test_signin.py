"""Signing in as a security reviewer tries it: guesses are limited per user name and per address, a lock-out says
so and ends by itself or by an administrator, every sign-in, failure and sign-out is an audit entry, passwords are
12 characters or more, and a changed password ends the sessions open elsewhere."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from kyphos import clock
from kyphos.audit.models import AuditAction, AuditEntry
from tests.accounts import sign_in as sign_in_as

pytestmark = pytest.mark.django_db
RIGHT = "pw-for-tests-1"


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(response: Any) -> bool:
    return response.status_code == 302 and response["Location"] == "/"


def test_five_wrong_passwords_lock_the_user_name_for_fifteen_minutes(people: dict[str, Any]) -> None:
    client = Client()
    start = clock.current()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            assert sign_in(client, "t_nurse", "wrong-guess-123").status_code == 200
        assert sign_in(client, "t_nurse", "wrong-guess-123").status_code == 429  # the fifth locks, and says so
        refused = sign_in(client, "t_nurse", RIGHT)  # the right password too, while locked
        assert refused.status_code == 429
        assert "Too many failed sign-ins" in refused.content.decode()
        assert "_auth_user_id" not in client.session
        assert signed_in(sign_in(Client(), "t_scheduler", RIGHT))  # another user name signs in
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert signed_in(sign_in(Client(), "t_nurse", RIGHT))
    failures = AuditEntry.objects.filter(action=AuditAction.SIGN_IN_FAILED, username="t_nurse")
    assert failures.count() == 6 and failures.filter(detail="locked out").exists()
    assert failures.first().client_addr == "10.0.0.1"


def test_twenty_failures_from_one_address_lock_the_address(people: dict[str, Any]) -> None:
    for n in range(20):
        sign_in(Client(), f"guess-{n}", "wrong-guess-123", address="10.9.9.9")
    assert sign_in(Client(), "t_radiologist", RIGHT, address="10.9.9.9").status_code == 429
    assert signed_in(sign_in(Client(), "t_radiologist", RIGHT, address="10.0.0.7"))


def test_an_administrator_unlocks_a_user_name(people: dict[str, Any]) -> None:
    for _ in range(5):
        sign_in(Client(), "t_ward_nurse", "wrong-guess-123")
    assert sign_in(Client(), "t_ward_nurse", RIGHT).status_code == 429
    call_command("axes_reset_username", "t_ward_nurse", verbosity=0)
    assert signed_in(sign_in(Client(), "t_ward_nurse", RIGHT))


def test_sign_in_and_sign_out_are_audited(people: dict[str, Any]) -> None:
    client = Client()
    assert signed_in(sign_in(client, "t_manager", RIGHT))
    client.post("/logout/", REMOTE_ADDR="10.0.0.1")
    entries = AuditEntry.objects.filter(user=people["manager"]).order_by("id")
    assert [e.action for e in entries] == [AuditAction.SIGN_IN, AuditAction.SIGN_OUT]
    assert all(e.client_addr == "10.0.0.1" for e in entries)


def test_passwords_are_twelve_characters_at_least(people: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Kx7!mq2#pLz", people["nurse"])
    validate_password("Kx7!mq2#pLz9", people["nurse"])


def test_a_changed_password_ends_the_other_sessions(people: dict[str, Any]) -> None:
    elsewhere = Client()
    assert signed_in(sign_in(elsewhere, "t_nurse", RIGHT))
    assert elsewhere.get("/").status_code == 200
    nurse = people["nurse"]
    nurse.set_password("a-new-password-2026")
    nurse.save()
    after = elsewhere.get("/")
    assert after.status_code == 302 and after["Location"].startswith("/login/")


def test_an_idle_session_ends_and_says_why(people: dict[str, Any]) -> None:
    start = clock.current()
    client = Client()
    with time_machine.travel(start, tick=False):
        assert signed_in(sign_in(client, "t_nurse", RIGHT))
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert client.get("/").status_code == 200  # activity within the idle time keeps the session
    with time_machine.travel(start + timedelta(minutes=28), tick=False):
        assert client.post("/session/keep-alive/").status_code == 204  # "Stay signed in" from the warning
    with time_machine.travel(start + timedelta(minutes=44), tick=False):
        ended = client.get("/cases/", follow=True)
    assert ended.redirect_chain[0][0].startswith("/login/?next=/cases/")
    assert "signed out after 15 minutes without activity" in ended.content.decode()
    assert AuditEntry.objects.filter(
        action=AuditAction.SIGN_OUT, user=people["nurse"], detail="signed out after the idle time"
    ).exists()


def test_changes_to_roles_and_accounts_are_audited(people: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group

    people["admin"].is_staff = people["admin"].is_superuser = True
    people["admin"].save()
    admin = Client()
    sign_in_as(admin, people["admin"])
    nurse = people["nurse"]
    radiologist = Group.objects.get_or_create(name="radiologist")[0]
    response = admin.post(
        f"/admin/auth/user/{nurse.pk}/change/",
        {
            "username": nurse.username,
            "is_active": "on",
            "is_staff": "on",
            "groups": [g.pk for g in nurse.groups.all()] + [radiologist.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/admin/auth/user/", response.content.decode()
    entries = AuditEntry.objects.filter(object_type="user", object_id=str(nurse.pk), user=people["admin"])
    details = set(entries.values_list("detail", flat=True))
    assert {"t_nurse: role added radiologist", "t_nurse: is_staff on"} <= details


def test_a_site_can_sign_its_staff_out_sooner(people: dict[str, Any], site: Any) -> None:
    """A site sets its own idle time; a user of several sites gets the strictest (here HOSP's 5 minutes)."""
    site.idle_minutes = 5
    site.save()
    start = clock.current()
    client = Client()
    with time_machine.travel(start, tick=False):
        assert signed_in(sign_in(client, "t_nurse", RIGHT))
        page = client.get("/").content.decode()
        assert 'data-idle-seconds="300"' in page  # the warning comes a minute before 5, not 15
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        ended = client.get("/cases/", follow=True)
    assert "signed out after 5 minutes without activity" in ended.content.decode()
