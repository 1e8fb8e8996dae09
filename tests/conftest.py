"""Shared test set-up: personas for every role, a demo-like department, the browser, and real parts.

Real parts: SQLite in memory by default; PostgreSQL when ``DATABASE_URL`` points at the server that
``tests/pgrun.py`` starts on loopback (``make test`` runs the suite on both); Debian's Chromium for the
browser journeys. A missing part skips its tests with a message, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps a loop in this thread
os.environ.setdefault("KYPHOS_SECRET_KEY", "tests-only-secret-key-not-for-production")

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: Any) -> None:
    """The test runner empties the database between transactional tests; the audit table's triggers allow that
    only on connections opened with this setting (kyphos.audit.chain), which no real start sets."""
    from django.conf import settings

    settings.KYPHOS_AUDIT_ERASABLE = True


def require_part(available: bool, message: str) -> None:
    """Skip when a real part is missing on a laptop; fail under CI, where the Makefile installs it."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the Makefile should have installed it)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- personas ----------------------------------------------------------------------------------------------

PERSONAS = ["scheduler", "nurse", "radiologist", "anesthesia", "ward_nurse", "manager", "auditor", "admin"]


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    """One user per role, plus an outsider with no role."""
    from django.contrib.auth.models import Group, User

    users = {}
    for role in PERSONAS:
        user = User.objects.create_user(username=f"t_{role}", password="pw-for-tests-1")
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        users[role] = user
    users["outsider"] = User.objects.create_user(username="t_outsider", password="pw-for-tests-1")
    return users


@pytest.fixture
def actors(people: dict[str, Any]) -> dict[str, Any]:
    from kyphos.audit.actor import Actor

    return {name: Actor(user=user, client_addr="127.0.0.1") for name, user in people.items()}


# --- a department ------------------------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def site(db: Any, people: dict[str, Any]) -> Any:
    """Riverside General, where every persona works (site scoping: tests/web/test_scope.py)."""
    from kyphos.rules.holidays import us_federal_holidays
    from kyphos.scheduling.models import Holiday, Room, Site

    hosp = Site.objects.create(
        code="HOSP", name="Riverside General", time_zone="America/New_York", phone="+1 212 555 0100"
    )
    Room.objects.create(site=hosp, name="IR Suite 1")
    Room.objects.create(site=hosp, name="IR Suite 2")
    for year in (2026, 2027, 2028):
        for day, name in us_federal_holidays(year):
            Holiday.objects.create(site=hosp, date=day, name=name)
    hosp.staff.set(people.values())
    return hosp


@pytest.fixture
def other_site(db: Any, people: dict[str, Any]) -> Any:
    """Lakeshore ASC, where every persona works too."""
    from kyphos.scheduling.models import Room, Site

    asc = Site.objects.create(
        code="ASC",
        name="Lakeshore ASC",
        time_zone="America/Chicago",
        phone="+1 312 555 0199",
        kind=Site.Kind.SURGERY_CENTER,
    )
    Room.objects.create(site=asc, name="Procedure Room A")
    asc.staff.set(people.values())
    return asc


@pytest.fixture
def room(site: Any) -> Any:
    return site.rooms.get(name="IR Suite 1")


def referral(**overrides: Any) -> Any:
    from kyphos.pathway.services import LevelInput, ReferralDetails

    values: dict[str, Any] = {
        "referring_clinician": "Dr Okafor",
        "etiology": "osteoporosis",
        "pain_nrs": 7,
        "weeks_conservative_care": 8,
        "pain_trend": "worsening",
        "levels": [LevelInput("T12", "acute", "yes", 30), LevelInput("L1", "acute", "yes", 20)],
    }
    values.update(overrides)
    return ReferralDetails(**values)


def new_patient(mrn: str = "H100001", **overrides: Any) -> Any:
    from kyphos.patients.services import PatientDetails

    values: dict[str, Any] = {
        "assigning_authority": "HOSP",
        "mrn": mrn,
        "family_name": "Testwoman",
        "given_name": "Ada",
        "date_of_birth": date(1948, 3, 14),
        "sex": "F",
        "phone_mobile": "+1 555 0100 1234",
    }
    values.update(overrides)
    return PatientDetails(**values)


# --- cases at any stage, built by the demo's builder through the real services -------------------------------

MONDAY = datetime(2030, 1, 7, 8, tzinfo=ZoneInfo("America/New_York"))  # the shared appointment of pathway tests
ARRIVAL = MONDAY - timedelta(minutes=90)
CALM = {"pain": "3", "pain_medicines": "non_opioid", "walking": "bit_worse", "activities": "bit_worse"}


def team_of(actors: dict[str, Any]) -> Any:
    from kyphos.demo.builder import Team

    return Team(
        nurse=actors["nurse"],
        ward_nurse=actors["ward_nurse"],
        anesthesia=actors["anesthesia"],
        radiologist=actors["radiologist"],
    )


def case_at(make_case: Any, actors: dict[str, Any], stage: str, journey: Any = None, **referral: Any) -> Any:
    """A case booked for MONDAY 08:00 and taken to ``stage`` by ``demo.builder.advance_to``."""
    return advance(make_case("scheduled", start=MONDAY, **referral), actors, stage, journey)


def advance(case: Any, actors: dict[str, Any], stage: str, journey: Any = None) -> Any:
    from kyphos.demo.builder import advance_to

    return advance_to(case, stage, team_of(actors), journey)


def planned(*levels: str) -> list[Any]:
    """Referral levels, all acute with edema on MRI."""
    from kyphos.pathway.services import LevelInput

    return [LevelInput(level, "acute", "yes") for level in levels]


def no_labs() -> Any:
    from kyphos.demo.builder import Journey

    return Journey(labs={})


def patient_actor() -> Any:
    """The patient, acting through their link (no sign-in)."""
    from kyphos.audit.actor import Actor

    return Actor(user=None, client_addr="10.0.0.5", system_name="patient link 1")


def no_flags() -> dict[str, str]:
    from kyphos.rules import redflags

    return {key: "no" for key in redflags.flags()}


def diary_entry(answers: dict[str, str] | None = None, **flags: str) -> Any:
    from kyphos.aftercare import diary

    return diary.DiaryInput(answers=answers or dict(CALM), flags={**no_flags(), **flags})


def next_business_monday(calendar: Any, after: date) -> date:
    """The first Monday at least a week after ``after`` whose Monday and previous Friday are business days."""
    day = after + timedelta(days=7)
    day += timedelta(days=(7 - day.weekday()) % 7)
    while not (calendar.is_business_day(day) and calendar.is_business_day(day - timedelta(days=3))):
        day += timedelta(days=7)
    return day


@pytest.fixture
def make_case(site: Any, actors: dict[str, Any]) -> Any:
    """Build a case and move it to ``stage`` through the real services."""
    from kyphos import clock
    from kyphos.pathway import services

    counter = {"n": 0}

    def build(stage: str = "referred", *, start: datetime | None = None, **referral_overrides: Any) -> Any:
        counter["n"] += 1
        case = services.refer_patient(
            actors["scheduler"],
            site=site,
            details=referral(**referral_overrides),
            new_patient=new_patient(f"H9{counter['n']:05d}"),
        )
        if stage == "referred":
            return case
        case = services.triage_case(
            actors["radiologist"],
            case,
            version=case.version,
            reason="ok",
            override_reason="reviewed" if case.open_stops else "",
        )
        if stage == "triaged":
            return case
        monday = next_business_monday(site.calendar(), clock.current().astimezone(NEW_YORK).date())
        when = start or datetime.combine(monday, time(8, 0), tzinfo=NEW_YORK) + timedelta(days=7 * counter["n"])
        room = site.rooms.order_by("name").first()
        case = services.book_case(actors["scheduler"], case, version=case.version, room=room, start=when, minutes=60)
        if stage == "scheduled":
            return case
        raise ValueError(stage)

    return build


# --- browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    require_part(os.path.exists(CHROMIUM), f"Debian's Chromium is not installed at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
        ],
    }


def postgres_available() -> bool:
    return bool(shutil.which("pg_ctl") or os.path.exists("/usr/lib/postgresql"))


# --- the FHIR API ------------------------------------------------------------------------------------------------


def api_client(name: str, scopes: str, roles: tuple[str, ...] = ("scheduler",), **options: Any) -> Any:
    """Register a FHIR API client through the real service (``sites`` and ``jwks`` as keywords)."""
    from kyphos.audit.actor import Actor
    from kyphos.interop.fhir import clients

    return clients.create_client(
        Actor.system("test"), name, scopes, list(roles), options.get("sites", []), options.get("jwks", {"keys": []})
    )


def api_token(client: Any) -> str:
    """A script token for ``client`` (one day)."""
    from kyphos.audit.actor import Actor
    from kyphos.interop.fhir import clients

    return clients.issue_script_token(Actor.system("test"), client, 1)


def fhir_api(token: str) -> Any:
    """Django's test client sending ``token`` as the bearer."""
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")
