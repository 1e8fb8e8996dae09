"""The second factor, as the people who need one meet it: managers, auditors and administrators (and any role the
hospital adds) set up an authenticator app from a QR code drawn by Kyphos, keep recovery codes, enter a code at
each sign-in, and an administrator resets a lost phone. Everything else is out of reach until they do."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kyphos import clock
from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.demo.models import DemoMark
from tests.accounts import sign_in

pytestmark = pytest.mark.django_db
RIGHT = "pw-for-tests-1"


def password_sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": RIGHT})
    assert response.status_code == 302
    return client


def code_for(device: TOTPDevice, offset_steps: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps)
    return f"{value:0{device.digits}d}"


def details(user: Any) -> list[str]:
    return list(AuditEntry.objects.filter(object_type="user", object_id=str(user.pk)).values_list("detail", flat=True))


def set_up(username: str) -> tuple[Client, list[str]]:
    """Sign in with the password, scan, confirm: the recovery codes shown once."""
    client = password_sign_in(username)
    client.get("/account/second-factor/")
    device = TOTPDevice.objects.get(user__username=username)
    page = client.post("/account/second-factor/", {"code": code_for(device)}).content.decode()
    return client, re.findall(r"<li><code>(\w+)</code></li>", page)


def test_a_manager_sets_up_an_app_before_seeing_anything(people: dict[str, Any]) -> None:
    client = password_sign_in("t_manager")
    response = client.get("/cases/?q=Garcia")
    assert response.status_code == 302
    assert response["Location"] == "/account/second-factor/?next=/cases/?q=Garcia"
    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page and "<path" in page  # the QR code, drawn here: no outside service sees the secret
    device = TOTPDevice.objects.get(user=people["manager"])
    assert not device.confirmed
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert secret is not None and len(secret.group(1).replace(" ", "")) == 32

    wrong = client.post("/account/second-factor/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "That code does not match" in wrong.content.decode()
    assert 'id="id_code_error"' in wrong.content.decode()  # next to the field
    assert client.get("/cases/").status_code == 302

    with time_machine.travel(clock.current() + timedelta(seconds=3)):  # a person takes a moment to type again
        codes_page = client.post("/account/second-factor/?next=/cases/", {"code": code_for(device)})
    codes = re.findall(r"<li><code>(\w+)</code></li>", codes_page.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/cases/"' in codes_page.content.decode()
    assert client.get("/cases/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert "second factor set up" in details(people["manager"])


def test_each_sign_in_asks_a_code_and_a_recovery_code_works_once(people: dict[str, Any]) -> None:
    _first, codes = set_up("t_auditor")
    client = password_sign_in("t_auditor")
    response = client.get("/audit/")
    assert response["Location"] == "/account/verify/?next=/audit/"
    wrong = client.post("/account/verify/?next=/audit/", {"code": "not-a-code"})
    assert "That code does not match" in wrong.content.decode()
    assert client.get("/audit/").status_code == 302
    used = codes[0]
    with time_machine.travel(clock.current() + timedelta(seconds=3)):
        ok = client.post("/account/verify/", {"code": f" {used.upper()} ", "next": "/audit/"}, follow=True)
    assert ok.redirect_chain[-1][0] == "/audit/"
    assert "9 are left" in ok.content.decode()
    assert StaticToken.objects.filter(device__user=people["auditor"]).count() == 9
    with time_machine.travel(clock.current() + timedelta(seconds=60)):
        again = password_sign_in("t_auditor").post("/account/verify/", {"code": used})
    assert again.status_code == 200 and "does not match" in again.content.decode()
    audited = AuditEntry.objects.filter(user=people["auditor"]).values_list("action", "detail")
    assert (AuditAction.SIGN_IN, "second factor: recovery code") in audited
    assert (AuditAction.SIGN_IN_FAILED, "second factor: wrong") in audited


def test_wrong_codes_in_a_row_are_slowed_down(people: dict[str, Any]) -> None:
    set_up("t_admin")
    client = password_sign_in("t_admin")
    with time_machine.travel(clock.current(), tick=False):
        client.post("/account/verify/", {"code": "123456"})
        device = TOTPDevice.objects.get(user=people["admin"])
        throttled = client.post("/account/verify/", {"code": code_for(device)})  # even the right code, so soon
    assert "Too many wrong codes in a row" in throttled.content.decode()
    assert client.get("/admin/").status_code == 302


def test_only_the_roles_that_need_it_are_asked(people: dict[str, Any], settings: Any) -> None:
    nurse = password_sign_in("t_nurse")
    assert nurse.get("/cases/").status_code == 200
    settings.KYPHOS_SECOND_FACTOR_ROLES = ["nurse"]  # a hospital that wants it for its nurses too
    assert nurse.get("/cases/")["Location"].startswith("/account/second-factor/")
    people["outsider"].is_superuser = True
    people["outsider"].save()
    assert password_sign_in("t_outsider").get("/")["Location"].startswith("/account/second-factor/")


def test_demo_users_are_not_asked_and_are_told_so(people: dict[str, Any]) -> None:
    DemoMark.objects.create(loaded_at=clock.current(), seed=7)
    page = password_sign_in("t_manager").get("/cases/")
    assert page.status_code == 200
    assert "Demo mode: your role signs in with a code from an authenticator app" in page.content.decode()
    nurse_page = password_sign_in("t_nurse").get("/cases/").content.decode()
    assert "Demo mode: your role" not in nurse_page  # a nurse is not asked anywhere: nothing to waive


def test_an_administrator_resets_a_lost_phone(people: dict[str, Any]) -> None:
    set_up("t_manager")
    out = StringIO()
    call_command("reset-second-factor", "t_manager", stdout=out)
    assert "2 devices removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=people["manager"]).exists()
    assert password_sign_in("t_manager").get("/")["Location"].startswith("/account/second-factor/")
    audited = details(people["manager"])
    assert "t_manager: second factor reset" in audited
    assert "t_manager: second factor removed (authenticator app)" in audited

    set_up("t_auditor")
    admin = sign_in(Client(), people["admin"])
    people["admin"].is_staff = people["admin"].is_superuser = True
    people["admin"].save()
    response = admin.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [people["auditor"].pk]},
        follow=True,
    )
    assert "Second factor reset for 1 users" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=people["auditor"]).exists()
    reset_entry = AuditEntry.objects.filter(detail="t_auditor: second factor reset").get()
    assert reset_entry.user == people["admin"]
