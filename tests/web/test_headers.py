"""What every response says about itself: no caching of any page (staff pages show patients too), a Content
Security Policy without inline script or style, no sniffing, no framing; and no patient link's token in the log."""

import base64
import hashlib
import io
import logging
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kyphos.messaging import links
from tests.accounts import sign_in
from tests.conftest import case_at

pytestmark = pytest.mark.django_db


def staff(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def directives(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_staff_pages_are_not_stored_and_refuse_inline_code(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = make_case("scheduled")
    nurse = staff(people["nurse"])
    for client, url in (
        (nurse, reverse("case_detail", args=[case.uuid])),
        (nurse, reverse("home")),
        (Client(), "/login/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"
        policy = directives(response)
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"] and "'unsafe-inline'" not in response["Content-Security-Policy"]
    static = Client().get("/static/kyphos/kyphos.css")
    assert static.status_code == 200 and static.get("Cache-Control") != "no-store"  # style sheets may be cached


def test_a_letter_lets_in_its_own_style_block_and_nothing_else(
    people: dict[str, Any], make_case: Any, actors: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "discharged")
    response = staff(people["ward_nurse"]).get(reverse("aftercare:letter", args=[case.uuid]))
    html = response.content.decode()
    block = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    assert response.status_code == 200 and block is not None
    digest = base64.b64encode(hashlib.sha256(block.group(1).encode()).digest()).decode()
    assert directives(response)["style-src"] == ["'self'", f"'sha256-{digest}'"]
    assert response["Cache-Control"] == "no-store"


def test_a_csrf_failure_on_a_patient_page_logs_no_token(make_case: Any, actors: dict[str, Any]) -> None:
    """The log line of a refused form names the path; the token in it opens the patient's pages."""
    case = make_case("scheduled")
    path = links.path_for(links.issue(actors["scheduler"], case))
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    written = io.StringIO()
    previous = console.setStream(written)  # type: ignore[attr-defined]
    try:
        refused = Client(enforce_csrf_checks=True).post(path + "checklist/", {"driver": "on"})
    finally:
        console.setStream(previous)  # type: ignore[attr-defined]
    token = path.split("/")[2]
    assert refused.status_code == 403
    assert "Forbidden (CSRF" in written.getvalue() and "/p/[link]/checklist/" in written.getvalue()
    assert token not in written.getvalue()


def test_the_browser_runs_log_check_finds_a_leak_and_passes_a_redacted_link(
    make_case: Any, actors: dict[str, Any]
) -> None:
    from tests.browser.conftest import Kept, secrets_of_patients

    case = make_case("scheduled")
    path = links.path_for(links.issue(actors["scheduler"], case))
    kept = Kept()
    logger = logging.getLogger("kyphos.check")
    logger.addHandler(kept)
    try:
        logger.warning("refused %s", path)  # redacted on its way, as the console handler does
        assert not {s for s in secrets_of_patients() for line in kept.lines if s in line}
        logger.warning("could not reach %s", case.patient.phone_mobile)
    finally:
        logger.removeHandler(kept)
    assert {s for s in secrets_of_patients() for line in kept.lines if s in line} == {case.patient.phone_mobile}
