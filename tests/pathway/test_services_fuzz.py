"""The services themselves, called as an HL7 feed or a FHIR client will call them (no form in front), with what
hypothesis makes up: each call either succeeds or is refused with one of our errors, and a refusal writes
nothing. Never another exception, never half a record."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyphos.errors import KyphosError
from kyphos.messaging import outbox
from kyphos.messaging.models import OutboxMessage
from kyphos.pathway import services
from kyphos.pathway.errors import GuardBlocked, NotPermitted, StaleEdit
from kyphos.pathway.services import LevelInput, ReferralDetails
from kyphos.patients.services import PatientDetails
from tests.conftest import NEW_YORK

pytestmark = pytest.mark.django_db
REFUSALS = (KyphosError, ValidationError, GuardBlocked, NotPermitted, StaleEdit)
RUNS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
NOT_COUNTED = {"audit.auditentry"}  # a refusal may be audited
TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\x00", "<script>x</script>", "' OR 1=1 --", "ü" * 300, "T12", "L1", "osteoporotic"]),
)
DAYS = st.one_of(st.dates(min_value=date(1850, 1, 1), max_value=date(2200, 1, 1)), st.none())


def counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in NOT_COUNTED and not model._meta.proxy
    }


def attempt(call: Any) -> bool:
    """Run one service call in a savepoint; True if it succeeded, False if refused with nothing written."""
    before = counts()
    try:
        with transaction.atomic():
            call()
    except REFUSALS:
        assert counts() == before, "a refused call changed the database"
        return False
    return True


@RUNS
@given(
    mrn=TEXT,
    family=TEXT,
    given_name=TEXT,
    born=st.dates(min_value=date(1800, 1, 1), max_value=date(2300, 1, 1)),
    sex=TEXT,
    phone=TEXT,
    email=TEXT,
    language=TEXT,
    clinician=TEXT,
    etiology=TEXT,
    pain=st.integers(min_value=-(10**6), max_value=10**6),
    levels=st.lists(st.tuples(TEXT, TEXT, TEXT, st.one_of(st.none(), st.integers(-500, 500))), max_size=4),
    referred=DAYS,
    weeks=st.one_of(st.none(), st.integers(-(10**4), 10**4)),
)
def test_a_referral_from_any_input_is_whole_or_refused(site: Any, actors: dict[str, Any], **made: Any) -> None:
    details = ReferralDetails(
        referring_clinician=made["clinician"],
        etiology=made["etiology"],
        pain_nrs=made["pain"],
        levels=[LevelInput(level, acuity, edema, loss) for level, acuity, edema, loss in made["levels"]],
        referral_date=made["referred"],
        weeks_conservative_care=made["weeks"],
    )
    patient = PatientDetails(
        assigning_authority="HOSP",
        mrn=made["mrn"],
        family_name=made["family"],
        given_name=made["given_name"],
        date_of_birth=made["born"],
        sex=made["sex"],
        phone_mobile=made["phone"],
        email=made["email"],
        preferred_language=made["language"],
    )
    attempt(lambda: services.refer_patient(actors["scheduler"], site=site, details=details, new_patient=patient))


@RUNS
@given(
    offset_minutes=st.integers(min_value=-(10**7), max_value=10**7),
    minutes=st.integers(min_value=-(10**5), max_value=10**5),
    reason=TEXT,
)
def test_a_booking_at_any_time_is_whole_or_refused(
    make_case: Any, actors: dict[str, Any], offset_minutes: int, minutes: int, reason: str
) -> None:
    case = make_case("triaged")
    room = case.site.rooms.order_by("name").first()
    start = datetime(2030, 1, 7, 9, tzinfo=NEW_YORK) + timedelta(minutes=offset_minutes)
    booked = attempt(
        lambda: services.book_case(
            actors["scheduler"],
            case,
            version=case.version,
            room=room,
            start=start,
            minutes=minutes,
            override_reason=reason,
        )
    )
    if booked:
        case.refresh_from_db()
        assert case.appointment is not None and case.appointment.start == start


@RUNS
@given(to=TEXT, channel=st.sampled_from(["sms", "email"]))
def test_resending_to_any_address_is_whole_or_refused(
    make_case: Any, actors: dict[str, Any], to: str, channel: str
) -> None:
    case = make_case("triaged")
    row, _new = outbox.enqueue(case, "new_link", channel, to="", body="Your link")
    OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxMessage.Status.FAILED)
    row.refresh_from_db()
    if attempt(lambda: outbox.retry(actors["nurse"], row, to)):
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.PENDING and row.to_address
