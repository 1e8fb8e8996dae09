"""The patient's link: it opens its own case only, and stops working when revoked, replaced or expired."""

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine

from kyphos import clock
from kyphos.audit.models import AuditEntry
from kyphos.messaging import links

pytestmark = pytest.mark.django_db


def test_a_link_opens_its_case(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    link = links.issue(actors["nurse"], case)
    opened = links.open_token(links.token_for(link))
    assert opened.case == case
    assert AuditEntry.objects.filter(object_type="patient_link", patient_uuid=case.patient.uuid).exists()


def test_a_link_has_one_address_whenever_it_is_written(make_case: Any, actors: dict[str, Any]) -> None:
    """A resend a minute later carries the same address, so staff and patient can tell it is the same link."""
    case = make_case("scheduled")
    link = links.issue(actors["nurse"], case)
    first = links.path_for(link)
    with time_machine.travel(clock.current() + timedelta(minutes=3)):
        assert links.path_for(link) == first
        assert links.open_token(first.split("/")[2]).case.pk == case.pk


def test_a_tampered_or_made_up_token_is_refused(make_case: Any, actors: dict[str, Any]) -> None:
    token = links.token_for(links.issue(actors["nurse"], make_case("scheduled")))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "hello", token.split(":")[0] + ":xyz", ""):
        with pytest.raises(links.LinkError, match="not valid"):
            links.open_token(bad)


def test_a_revoked_link_stops_working(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    token = links.token_for(links.issue(actors["nurse"], case))
    with pytest.raises(ValueError, match="why"):
        links.revoke(actors["nurse"], case, "  ")
    assert links.revoke(actors["nurse"], case, "phone lost") == 1
    with pytest.raises(links.LinkError, match="no longer works"):
        links.open_token(token)


def test_reissuing_replaces_the_old_link(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    old = links.token_for(links.issue(actors["nurse"], case))
    new = links.token_for(links.issue(actors["nurse"], case))
    assert links.open_token(new).case == case
    with pytest.raises(links.LinkError, match="no longer works"):
        links.open_token(old)


def test_a_link_expires_after_the_sites_number_of_days(make_case: Any, actors: dict[str, Any], site: Any) -> None:
    site.patient_link_days = 10
    site.save()
    case = make_case("scheduled")
    case.site.refresh_from_db()
    token = links.token_for(links.issue(actors["nurse"], case))
    with time_machine.travel(clock.current() + timedelta(days=9, hours=23)):
        assert links.open_token(token).case == case
    with (
        time_machine.travel(clock.current() + timedelta(days=10, minutes=1)),
        pytest.raises(links.LinkError, match="expired"),
    ):
        links.open_token(token)


def test_five_wrong_dates_of_birth_lock_the_link(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled")
    link = links.issue(actors["nurse"], case, require_dob=True)
    assert links.check_dob(link, date(1948, 3, 14), "10.0.0.1")  # conftest's patient
    for _ in range(4):
        assert not links.check_dob(link, date(1950, 1, 1), "10.0.0.1")
    with pytest.raises(links.LinkError, match="locked"):
        links.check_dob(link, None, "10.0.0.1")
    with pytest.raises(links.LinkError, match="no longer works"):
        links.open_token(links.token_for(link))
