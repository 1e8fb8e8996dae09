"""A demo department: two sites, one user per role, ~60 patients in every stage, built through the services.

Deterministic for a given ``seed`` and day: the same names, levels, medicines and stages each time.
Demo data only: never load it into a database that holds real patients.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from kyphos import clock, when
from kyphos.aftercare import diary, questionnaires
from kyphos.aftercare.followup import VisitInput
from kyphos.audit.actor import Actor
from kyphos.demo.builder import PATHWAY, Journey, Team, advance_to
from kyphos.demo.models import DemoMark
from kyphos.messaging import links
from kyphos.pathway import services
from kyphos.pathway.models import Case
from kyphos.pathway.policy import Role
from kyphos.pathway.services import LevelInput, ReferralDetails
from kyphos.pathway.stages import Stage
from kyphos.patients.models import Patient
from kyphos.patients.services import PatientDetails, record_allergy, record_no_known_allergies
from kyphos.precall import services as precall
from kyphos.precall.services import MedicationInput
from kyphos.rules import redflags
from kyphos.rules.holidays import us_federal_holidays
from kyphos.rules.levels import ALL_LEVELS
from kyphos.scheduling.models import Holiday, Room, Site, default_hours

DEMO_USERS: list[tuple[str, Role | None, str]] = [
    ("scheduler", Role.SCHEDULER, "Sam Scheduler"),
    ("nurse", Role.NURSE, "Nina Nurse"),
    ("radiologist", Role.RADIOLOGIST, "Dr Rita Radiologist"),
    ("anesthesia", Role.ANESTHESIA, "Dr Alan Anesthesia"),
    ("wardnurse", Role.WARD_NURSE, "Walt Wardnurse"),
    ("manager", Role.MANAGER, "Mia Manager"),
    ("auditor", Role.AUDITOR, "Aldo Auditor"),
    ("admin", Role.ADMIN, "Ada Admin"),
]

FAMILY = [
    "Garcia",
    "Smith",
    "Johnson",
    "Nguyen",
    "Brown",
    "Williams",
    "Jones",
    "Miller",
    "Davis",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
]
GIVEN_F = [
    "Mary",
    "Patricia",
    "Linda",
    "Barbara",
    "Elizabeth",
    "Dorothy",
    "Margaret",
    "Ruth",
    "Helen",
    "Carmen",
    "Rosa",
    "Mai",
    "Joan",
    "Evelyn",
    "Shirley",
    "Betty",
    "Lan",
    "Gloria",
    "Frances",
    "Alice",
]
GIVEN_M = [
    "James",
    "Robert",
    "John",
    "William",
    "Richard",
    "Joseph",
    "Charles",
    "Thomas",
    "Jose",
    "Minh",
    "George",
    "Harold",
    "Walter",
    "Frank",
]
REFERRERS = [
    "Dr Okafor (Primary care)",
    "Dr Lindqvist (Orthopedics)",
    "Dr Patel (Oncology)",
    "Dr Chen (Rheumatology)",
    "Dr Alvarez (Emergency)",
    "Dr Brooks (Geriatrics)",
]
MEDICINES = [
    "Apixaban 5 mg twice daily (atrial fibrillation)",
    "Aspirin 81 mg daily (primary prevention)",
    "Clopidogrel 75 mg daily (coronary stent 2024)",
    "Warfarin per INR clinic (mechanical mitral valve)",
    "Rivaroxaban 20 mg daily (DVT 2025)",
    "Oxycodone 5 mg every 6 h as needed",
    "Acetaminophen 1 g three times daily",
    "Alendronate 70 mg weekly",
    "Prednisone 10 mg daily",
    "Semaglutide 1 mg weekly",
    "Metformin 500 mg twice daily",
    "Insulin glargine 20 units at night",
    "Ibuprofen 400 mg as needed",
    "Gabapentin 300 mg three times daily",
    "Tramadol 50 mg as needed",
    "Denosumab 60 mg every 6 months",
    "Calcium and vitamin D daily",
    "Lisinopril 10 mg daily",
]
# How the ~60 demo cases spread over the pathway (target stage → count).
STAGE_PLAN = [
    ("referred", 6),
    ("triaged", 5),
    ("scheduled", 12),
    ("precall_done", 6),
    ("admitted", 2),
    ("cleared", 1),
    ("in_procedure", 1),
    ("recovery", 2),
    ("discharged", 8),
    ("followup_done", 4),
    ("closed", 5),
    ("declined", 2),
    ("postponed", 3),
    ("cancelled", 3),
]
SLOT_TIMES = [time(8, 0), time(9, 30), time(11, 0), time(13, 0), time(14, 30)]


def demo_password(username: str) -> str:
    return f"kyphos-{username}"


@dataclass
class Department:
    users: dict[str, User]
    sites: list[Site]
    discharged: int = 0
    flagged_call: bool = False  # one call has reported a fever: the radiologist has a stop to decide on

    def actor(self, username: str) -> Actor:
        return Actor(user=self.users[username], client_addr="127.0.0.1")

    @property
    def team(self) -> Team:
        return Team(
            nurse=self.actor("nurse"),
            ward_nurse=self.actor("wardnurse"),
            anesthesia=self.actor("anesthesia"),
            radiologist=self.actor("radiologist"),
        )


def sign_in_lines() -> list[str]:
    """The demo's sign-ins, to print when the demo is loaded (demo passwords only, never real ones)."""
    lines = ["Demo sign-ins (username / password):"]
    for username, role, _name in DEMO_USERS:
        lines.append(f"  {username:<12} {demo_password(username):<22} {role.label if role else ''}")
    return lines


def is_empty() -> bool:
    return not Site.objects.exists() and not Patient.objects.exists()


def is_demo() -> bool:
    """The database was made by ``load_demo`` (its mark is there), so its users' passwords are published."""
    return DemoMark.objects.exists()


def create_users() -> dict[str, User]:
    users = {}
    for each_role in Role:
        Group.objects.get_or_create(name=each_role.value)
    for username, role, full_name in DEMO_USERS:
        first, _space, last = full_name.rpartition(" ")
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        user.set_password(demo_password(username))
        user.is_staff = user.is_superuser = role is Role.ADMIN
        user.save()
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))
        users[username] = user
    return users


def demo_logo(initials: str) -> bytes:
    """A plain letterhead logo for a demo site (a real site uploads its own in the admin)."""
    image = Image.new("RGB", (96, 96), (0, 94, 184))
    draw = ImageDraw.Draw(image)
    draw.text((48, 50), initials, fill="white", anchor="mm", font=ImageFont.load_default(size=44))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def create_sites() -> list[Site]:
    specs = [
        (
            "HOSP",
            "Riverside General Hospital",
            Site.Kind.HOSPITAL,
            "America/New_York",
            "+1 212 555 0100",
            "100 River Road, New York, NY",
            ["IR Suite 1", "IR Suite 2"],
        ),
        (
            "ASC",
            "Lakeshore Spine Surgery Center",
            Site.Kind.SURGERY_CENTER,
            "America/Chicago",
            "+1 312 555 0199",
            "40 Lakeshore Drive, Chicago, IL",
            ["Procedure Room A"],
        ),
    ]
    # The surgery center reads °F and 12-hour times, the hospital °C and 24-hour: the demo shows both.
    readings = {"ASC": {"temperature_unit": "F", "clock_hours": "12"}}
    sites = []
    for code, name, kind, zone, phone, address, rooms in specs:
        site, _created = Site.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "time_zone": zone,
                "phone": phone,
                "address": address,
                "business_hours": default_hours(),
                "logo": demo_logo("".join(word[0] for word in name.split()[:2])),
                "logo_type": "image/png",
                **readings.get(code, {}),
            },
        )
        for room in rooms:
            Room.objects.get_or_create(site=site, name=room)
        for year in (2026, 2027):
            for day, label in us_federal_holidays(year):
                Holiday.objects.get_or_create(site=site, date=day, defaults={"name": label})
        sites.append(site)
    return sites


class _Slots:
    """Hands out free (room, start) pairs so demo bookings (60 minutes each) never overlap in a room."""

    def __init__(self, sites: list[Site]) -> None:
        self.used: dict[int, list[datetime]] = {}
        self.rooms = {site.pk: list(site.rooms.all()) for site in sites}
        self.calendars = {site.pk: site.calendar() for site in sites}

    def _free(self, room: Room, start: datetime) -> bool:
        return all(abs(start - other) >= timedelta(minutes=60) for other in self.used.get(room.pk, []))

    def _claim(self, site: Site, start: datetime) -> Room | None:
        for room in self.rooms[site.pk]:
            if self._free(room, start):
                self.used.setdefault(room.pk, []).append(start)
                return room
        return None

    def take(self, site: Site, day: date, rng: random.Random) -> tuple[Room, datetime]:
        calendar = self.calendars[site.pk]
        for _ in range(60):
            if calendar.is_business_day(day):
                for slot in rng.sample(SLOT_TIMES, len(SLOT_TIMES)):
                    start = datetime.combine(day, slot, tzinfo=site.zone)
                    room = self._claim(site, start)
                    if room is not None:
                        return room, start
            day += timedelta(days=1)
        raise RuntimeError("no free demo slot")

    def take_at_or_before(self, site: Site, latest: datetime) -> tuple[Room, datetime]:
        """The latest quarter hour at or before ``latest`` with a free room (today's cases, any weekday)."""
        start = latest.replace(minute=latest.minute // 15 * 15, second=0, microsecond=0)
        for _ in range(96):
            room = self._claim(site, start)
            if room is not None:
                return room, start
            start -= timedelta(minutes=15)
        raise RuntimeError("no free demo slot")


def _referral(rng: random.Random, index: int) -> tuple[ReferralDetails, str]:
    etiology = rng.choices(["osteoporosis", "steroid", "neoplastic", "other"], weights=[70, 15, 12, 3])[0]
    count = rng.choices([1, 2, 3, 4], weights=[55, 30, 12, 3])[0]
    top = rng.randint(ALL_LEVELS.index("T6"), len(ALL_LEVELS) - count)
    levels = [
        LevelInput(
            ALL_LEVELS[top + k],
            rng.choices(["acute", "subacute", "chronic"], weights=[70, 25, 5])[0],
            rng.choices(["yes", "unknown", "no"], weights=[75, 20, 5])[0],
            rng.choice([15, 20, 25, 30, 35, 45]),
        )
        for k in range(count)
    ]
    hospitalized = rng.random() < 0.2
    screen = {}
    if rng.random() < 0.06:
        screen["contrast_allergy"] = True
    if rng.random() < 0.04:
        screen["retropulsion"] = True
    details = ReferralDetails(
        referring_clinician=rng.choice(REFERRERS),
        referring_contact=f"+1 555 01{index:02d}",
        etiology=etiology,
        steroid_disease=rng.choice(["asthma", "lupus", "rheumatoid_arthritis", "other"])
        if etiology == "steroid"
        else "",
        neoplastic_kind=rng.choice(["myeloma", "metastasis"]) if etiology == "neoplastic" else "",
        pain_nrs=rng.randint(8, 10) if hospitalized else rng.randint(5, 9),
        hospitalized=hospitalized,
        weeks_conservative_care=rng.choice([2, 3, 6, 8, 12, 26]),
        pain_trend=rng.choice(["worsening", "worsening", "stable", "improving"]),
        kyphotic_deformity=rng.random() < 0.3,
        progressive_height_loss=rng.random() < 0.3,
        rdq=rng.choice([None, 14, 18, 20, 22]),
        medications_note="\n".join(rng.sample(MEDICINES, rng.randint(2, 5))),
        levels=levels,
        screen=screen,
    )
    return details, etiology


def _patient(rng: random.Random, index: int, site: Site, today: date) -> PatientDetails:
    female = rng.random() < 0.78
    age = rng.randint(58, 93)
    born = today - timedelta(days=age * 365 + rng.randint(0, 364))
    language = rng.choices(["en", "es", "zh", "vi"], weights=[78, 14, 4, 4])[0]
    return PatientDetails(
        assigning_authority=site.code,
        mrn=f"{site.code[0]}{700100 + index}",
        family_name=rng.choice(FAMILY),
        given_name=rng.choice(GIVEN_F if female else GIVEN_M),
        date_of_birth=born,
        sex="F" if female else "M",
        phone_mobile=f"+1 555 2{index:03d} {rng.randint(1000, 9999)}",
        phone_home=f"+1 555 3{index:03d} {rng.randint(1000, 9999)}" if rng.random() < 0.5 else "",
        email=f"patient{index:02d}@example.org" if rng.random() < 0.6 else "",
        preferred_language=language,
        preferred_channel=rng.choice(["phone", "sms", "email"]),
        caregiver_name=rng.choice(["", "Daughter: Ana", "Son: Mark", "Husband: Paul", "Wife: Grace"]),
        caregiver_phone=f"+1 555 4{index:03d} 0000",
    )


@transaction.atomic
def load_demo(seed: int = 7) -> Department:
    """Create the demo department. Call on an empty database (``is_empty()``)."""
    rng = random.Random(seed)
    real_now = clock.now()
    DemoMark.objects.create(loaded_at=real_now, seed=seed)
    department = Department(create_users(), create_sites())
    for each_site in department.sites:  # the demo's staff work at both sites (site scoping: web.scope)
        each_site.staff.set(department.users.values())
    slots = _Slots(department.sites)
    plan = [stage for stage, count in STAGE_PLAN for _ in range(count)]
    for index, target in enumerate(plan):
        site = department.sites[0] if rng.random() < 0.65 else department.sites[1]
        _build_case(department, slots, rng, index, target, site, real_now)
    return department


def add_recovering(count: int, seed: int = 11) -> list[Case]:
    """``count`` more patients at home after their procedure (treated 2–20 days ago): patients who write diary
    entries in a load run (``make scale-test``). Call after ``load_demo``."""
    from kyphos.scheduling.models import Appointment

    rng = random.Random(seed)
    real_now = clock.now()
    names = [username for username, _role, _name in DEMO_USERS]
    department = Department(
        {user.username: user for user in User.objects.filter(username__in=names)},
        list(Site.objects.filter(code__in=["HOSP", "ASC"]).order_by("id")),
    )
    slots = _Slots(department.sites)
    for room_id, start in Appointment.objects.values_list("room_id", "start"):
        slots.used.setdefault(room_id, []).append(start)
    first = Patient.objects.count() + 1000  # medical record numbers after the demo's own
    cases = []
    for index in range(first, first + count):
        site = department.sites[index % len(department.sites)]
        cases.append(_build_case(department, slots, rng, index, "discharged", site, real_now))
    return cases


DEMO_CALL_MEDICINES = [
    [MedicationInput("Eliquis", "5 mg", "twice-daily", "af", "Dr Okafor", "+1 555 0170")],
    [MedicationInput("aspirin", "81 mg", "once-daily", "primary_prevention", "Dr Brooks")],
    [MedicationInput("Plavix", "75 mg", "once-daily", "recent_stent", "Dr Lindqvist", "+1 555 0171")],
    [
        MedicationInput("oxycodone", "5 mg", "four-times-daily"),
        MedicationInput("acetaminophen", "1 g", "three-times-daily"),
    ],
    [MedicationInput("Ozempic", "1 mg", "weekly"), MedicationInput("metformin", "500 mg", "twice-daily")],
    [MedicationInput("alendronate", "70 mg", "weekly")],
]


PATIENT = Actor.system("patient (demo)")
# The discharged patients' latest diary entries: most calm, a few with a red flag so every task kind shows.
DIARY_FLAGS = ["", "needle_site", "", "pain_returns", "", "", "leg_weakness_or_numbness", ""]
WALK = ["cannot", "much_worse", "bit_worse", "bit_worse", "as_before"]


def _recovery_answers(pain: int, step: int) -> dict[str, str]:
    return {
        "pain": str(pain),
        "pain_medicines": "opioid" if pain >= 6 else "non_opioid" if pain >= 2 else "none",
        "walking": WALK[min(step, 4)],
        "activities": WALK[min(step, 4)],
    }


def _before(case: Case, rng: random.Random, booked_at: datetime, now: datetime) -> None:
    """Some patients tick their checklist and answer the baseline questions on their own page."""
    if rng.random() < 0.6:
        with _at(min(booked_at + timedelta(hours=rng.randint(2, 30)), now)):
            precall.tick_patient_checklist(
                PATIENT,
                case,
                set(rng.sample(["driver", "imaging", "medicines", "fasting"], rng.randint(1, 4))),
            )
            questionnaires.record(
                PATIENT,
                case,
                questionnaires.recovery(),
                "baseline",
                _recovery_answers(case.pain_nrs, 1),
                author="patient",
            )


def _diary(case: Case, start: datetime, now: datetime, rng: random.Random, flag: str = "") -> None:
    """Daily diary entries at 18:00 from day 1 until today; pain falls; the last entry may raise a red flag."""
    zone = case.site.zone
    days = [
        d
        for d in range(1, 15)
        if datetime.combine(when.local_day(start, zone) + timedelta(days=d), time(18), tzinfo=zone) <= now
    ]
    for step, day in enumerate(days[:8]):
        moment = datetime.combine(when.local_day(start, zone) + timedelta(days=day), time(18), tzinfo=zone)
        last = step == len(days[:8]) - 1
        pain = max(1, min(case.pain_nrs - 3 - step, 6)) + (4 if last and flag == "pain_returns" else 0)
        flags = {key: "yes" if (last and key == flag and flag != "pain_returns") else "no" for key in redflags.flags()}
        with _at(moment):
            diary.record_entry(
                PATIENT,
                case,
                diary.DiaryInput(
                    _recovery_answers(min(pain, 10), step + 1),
                    flags,
                    note="Walked to the shop." if step == 2 else "",
                ),
            )


def _at(moment: datetime) -> Any:
    return clock.frozen_at(moment)


def _build_case(
    dept: Department, slots: _Slots, rng: random.Random, index: int, target: str, site: Site, now: datetime
) -> Case:
    today = when.local_day(now, site)
    past_stages = {"discharged", "followup_done", "closed"}
    today_stages = {"admitted", "cleared", "in_procedure", "recovery"}
    if target in past_stages:
        room, start = slots.take(
            site, today - timedelta(days=rng.randint(12 if target != "discharged" else 2, 20)), rng
        )
        referred_at = start - timedelta(days=rng.randint(8, 14))
    elif target in today_stages:
        slot = datetime.combine(today, rng.choice(SLOT_TIMES), tzinfo=site.zone)
        latest = now - timedelta(hours={"admitted": -1, "cleared": -0.25, "in_procedure": 0.25, "recovery": 2}[target])
        room, start = slots.take_at_or_before(site, min(slot, latest))
        referred_at = now - timedelta(days=rng.randint(10, 20))
    elif target == "scheduled" and index % 12 < 3:
        # A few bookings in the next business days, so the nurse has calls due when the demo opens.
        room, start = slots.take(site, today + timedelta(days=1 + index % 12 // 2), rng)
        referred_at = now - timedelta(days=rng.randint(3, 10))
    else:
        room, start = slots.take(site, today + timedelta(days=rng.randint(1, 21)), rng)
        referred_at = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
    details, _extra = _referral(rng, index)
    with _at(referred_at):
        case = services.refer_patient(
            dept.actor("scheduler"), site=site, details=details, new_patient=_patient(rng, index, site, today)
        )
        patient = case.patient
        if rng.random() < 0.5:
            record_no_known_allergies(dept.actor("scheduler"), patient)
        elif rng.random() < 0.4:
            record_allergy(dept.actor("scheduler"), patient, "contrast", "Iodinated contrast", "hives")
    if target == "referred":
        return case
    triage_at = referred_at + timedelta(hours=3)
    with _at(triage_at):
        if target == "declined":
            return services.decline_case(
                dept.actor("radiologist"),
                case,
                version=None,
                reason="Pain is from facet arthropathy, not the old fracture.",
            )
        case = services.triage_case(
            dept.actor("radiologist"),
            case,
            version=None,
            reason="Acute fracture with edema; pain despite analgesia.",
            override_reason="Reviewed" if case.open_stops else "",
        )
    if target == "triaged":
        return case
    book_at = min(triage_at + timedelta(hours=20), start - timedelta(hours=60))
    with _at(max(book_at, triage_at + timedelta(minutes=5))):
        case = services.book_case(
            dept.actor("scheduler"),
            case,
            version=None,
            room=room,
            start=start,
            minutes=60,
            override_reason="Demo department: booked at short notice",
        )
    if target not in {"cancelled", "postponed"}:
        _before(case, rng, max(book_at, triage_at + timedelta(minutes=5)), now)
    if target in {"scheduled", "cancelled", "postponed"}:
        if target == "cancelled":
            with _at(book_at + timedelta(hours=2)):
                case = services.cancel_case(
                    dept.actor("scheduler"),
                    case,
                    version=None,
                    reason=rng.choice(["patient_declined", "pain_resolved"]),
                )
        elif target == "postponed":
            with _at(book_at + timedelta(hours=3)):
                case = services.postpone_case(
                    dept.actor("nurse"),
                    case,
                    version=None,
                    reason=rng.choice(["anticoagulation", "illness", "no_driver"]),
                )
        return case
    journey = _journey(case, rng, now)
    if target == Stage.PRECALL_DONE and not dept.flagged_call:
        journey.call["fever_or_infection"] = True  # a stop on the case page: proceed, postpone or cancel
        dept.flagged_call = True
    for stage in PATHWAY[PATHWAY.index(Stage.PRECALL_DONE) :]:
        case = advance_to(case, stage, dept.team, journey)
        if stage == Stage.DISCHARGED:
            flag = DIARY_FLAGS[dept.discharged % len(DIARY_FLAGS)] if target == "discharged" else ""
            dept.discharged += target == "discharged"
            _diary(case, start, min(now, start + timedelta(days=10) - timedelta(minutes=1)), rng, flag)
        if stage == target:
            break
    return case


def _journey(case: Case, rng: random.Random, now: datetime) -> Journey:
    """A believable record for one demo patient: their own call, medicines, labs and visit."""
    call = {
        "identity_confirmed": True,
        "driver_status": "arranged" if rng.random() < 0.85 else "not_arranged",
        "driver_name": rng.choice(["Ana (daughter)", "Paul (husband)", "Mark (son)"]),
        "imaging_status": rng.choice(["bringing", "received", "none"]),
        "imaging_mri": True,
        "imaging_cd": True,
        "imaging_source": "Mercy Imaging Center",
        "pregnancy_status": "not_applicable",
        "fasting_given": True,
        "arrival_confirmed": True,
        "no_known_allergies": case.patient.allergy_status != "recorded",
        "crcl": rng.choice([None, 45, 62, 80]),
        "questions": "Asked about pain afterwards; explained 24–48 h.",
    }
    if call["driver_status"] == "not_arranged":
        call["driver_name"] = ""
    pain = rng.randint(0, 3)
    visit = VisitInput(
        pain_today=pain,
        outcome="discharge",
        complications=("none",),
        pt_referral=rng.random() < 0.6,
        pt_note="Posture, core strengthening and walking; no lifting over 5 kg for 6 weeks.",
        bmd_referral=True,
        note="Pain much better; walking daily.",
    )
    return Journey(
        call=call,
        medicines=tuple(rng.choice(DEMO_CALL_MEDICINES)),
        labs={"inr": "1.1", "platelets": "214", "hemoglobin": "12.6", "creatinine": "0.9"},
        vitals=True,
        sedation=True,
        start_override="Reviewed before the needle",
        sign_out=True,
        ward_bed="Ward 5",
        visit=visit,
        visit_answers=_recovery_answers(pain, 4),
        not_after=now,
    )


def patient_pages(base_url: str) -> list[tuple[str, str]]:
    """Links to two demo patients' own pages (before and after the procedure), for trying the patient's side."""
    out = []
    for label, stage in (
        ("before the procedure", Stage.SCHEDULED),
        ("after the procedure", Stage.DISCHARGED),
    ):
        case = Case.objects.filter(stage=stage, patient__family_name__isnull=False).order_by("id").first()
        if case is not None:
            link = links.ensure(Actor.system("demo"), case)
            born = case.patient.date_of_birth
            asks = f" (asks the date of birth: {born.day} {born.month} {born.year})" if link.require_dob else ""
            out.append((f"{case.patient.display_name}, {label}{asks}", base_url + links.path_for(link)))
    return out
