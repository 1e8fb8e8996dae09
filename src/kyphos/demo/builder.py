"""Take a case to any stage of the pathway through the real services: ``advance_to(case, stage, team)``.

The demo department, ``make bench``'s fixtures and the tests all build cases this way, so every case they hold
went through the same owners, guards, events and audit rows as a nurse's clicks. Each step happens at its own
moment relative to the appointment (the call in its window, admission at arrival, discharge the next day …),
never after ``Journey.not_after`` (the demo's "now").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kyphos import clock
from kyphos.aftercare import followup, questionnaires
from kyphos.aftercare import services as aftercare
from kyphos.audit.actor import Actor
from kyphos.labs import services as labs
from kyphos.pathway.models import Case
from kyphos.pathway.stages import Stage
from kyphos.precall import services as precall
from kyphos.procedure import note as procedure_note
from kyphos.procedure import services as procedure
from kyphos.rules.windows import call_window

# The stages a case passes through on an uneventful pathway, in order.
PATHWAY = [
    Stage.SCHEDULED,
    Stage.PRECALL_DONE,
    Stage.ADMITTED,
    Stage.CLEARED,
    Stage.IN_PROCEDURE,
    Stage.RECOVERY,
    Stage.DISCHARGED,
    Stage.FOLLOWUP_DONE,
    Stage.CLOSED,
]
ROUTINE_LABS = {"inr": "1.3", "platelets": "180", "hemoglobin": "12.1"}
ROUTINE_CALL: dict[str, Any] = {
    "identity_confirmed": True,
    "driver_status": "arranged",
    "driver_name": "Ana",
    "imaging_status": "received",
    "pregnancy_status": "not_applicable",
    "fasting_given": True,
    "arrival_confirmed": True,
    "no_known_allergies": True,
}
RECOVERY_ANSWERS = {
    "pain": "2",
    "pain_medicines": "non_opioid",
    "walking": "bit_worse",
    "activities": "bit_worse",
}


@dataclass(frozen=True)
class Team:
    """Who does each step: the people (or system actors) the services check."""

    nurse: Actor
    ward_nurse: Actor
    anesthesia: Actor
    radiologist: Actor


@dataclass(frozen=True)
class Journey:
    """What is recorded on the way; the defaults are a routine kyphoplasty without surprises."""

    call: dict[str, Any] = field(default_factory=lambda: dict(ROUTINE_CALL))
    medicines: tuple[precall.MedicationInput, ...] = ()
    labs: dict[str, str] = field(default_factory=lambda: dict(ROUTINE_LABS))
    vitals: bool = False  # weight, blood pressure, pulse and oxygen on admission
    sedation: bool = False
    start_override: str = ""  # the radiologist's reason to start despite open findings
    treatment_order: tuple[str, ...] = ()  # levels in the order treated (coding depends on it); default: planned
    sign_out: bool = False  # sign-out checklist and the signed note after the end
    ward_bed: str = ""
    visit: followup.VisitInput = field(
        default_factory=lambda: followup.VisitInput(
            pain_today=2,
            outcome="discharge",
            complications=("none",),
            note="Pain much better; walking daily.",
        )
    )
    visit_answers: dict[str, str] = field(default_factory=lambda: dict(RECOVERY_ANSWERS))
    not_after: datetime | None = None


def advance_to(case: Case, stage: Stage | str, team: Team, journey: Journey | None = None) -> Case:
    """Move a booked case forward to ``stage`` (at least scheduled) through each stage's owner; return it fresh."""
    journey = journey or Journey()
    target = Stage(stage)
    if target not in PATHWAY:
        raise ValueError(f"advance_to follows the routine pathway; {target.label} is not on it.")
    case.refresh_from_db()
    if Stage(case.stage) not in PATHWAY or PATHWAY.index(Stage(case.stage)) > PATHWAY.index(target):
        raise ValueError(f"A case that is {Stage(case.stage).label.lower()} cannot be taken to {target.label}.")
    while case.stage != target:
        step = STEPS[Stage(case.stage)]
        moment = step.moment(case)
        if journey.not_after is not None:
            moment = min(moment, journey.not_after)
        with clock.frozen_at(moment):
            step.run(case, team, journey, moment)
        case.refresh_from_db()
    return case


def _start(case: Case) -> datetime:
    assert case.appointment is not None, "advance_to needs a booked case"
    return case.appointment.start


def _call_moment(case: Case) -> datetime:
    window = call_window(_start(case), case.site.calendar())
    return min(window.start + timedelta(hours=1), window.end - timedelta(minutes=5))


def _call(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    call = precall.open_call(team.nurse, case)
    # Medicines stopped as arranged a week before, unless the journey says when they were last taken.
    medicines = [
        m
        if m.last_taken
        else replace(m, last_taken=min(_start(case) - timedelta(days=7, hours=2), moment - timedelta(hours=1)))
        for m in journey.medicines
    ]
    call = precall.save_call(
        team.nurse,
        call,
        version=call.version,
        data=precall.CallInput(dict(journey.call), medications=medicines),
    )
    precall.sign_call(team.nurse, call, version=call.version)


def _admit(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    start = _start(case)
    vitals: dict[str, Any] = (
        {"weight_kg": Decimal("61.5"), "bp_systolic": 132, "bp_diastolic": 78, "heart_rate": 72, "spo2": 97}
        if journey.vitals
        else {}
    )
    procedure.admit(
        team.ward_nurse,
        case,
        version=case.version,
        data_in=procedure.AdmissionInput(
            identity_band=True,
            consent_signed=True,
            driver_confirmed=True,
            iv_access=True,
            allergies_reconfirmed=True,
            medicine_plan_followed=True,
            last_clear_liquid_at=min(start - timedelta(hours=3), moment),
            last_light_meal_at=start - timedelta(hours=12),
            **vitals,
        ),
    )
    for code, value in journey.labs.items():
        labs.record_lab(team.ward_nurse, case, code, value=value, taken_at=moment)


def _clear(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    procedure.sign_checklist(team.anesthesia, case, "sign_in", _items("sign_in"))
    if journey.sedation:
        procedure.record_sedation(
            team.anesthesia,
            case,
            procedure.SedationInput(
                provider_name="Dr Alan Anesthesia",
                provider_role="anesthesiologist",
                asa_class=2,
                level="moderate",
                started_at=moment - timedelta(minutes=5),
                agents="Midazolam 2 mg IV; fentanyl 50 mcg IV",
            ),
        )
    procedure.sign_checklist(team.radiologist, case, "time_out", _items("time_out"))


def _begin(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    procedure.start_procedure(
        team.radiologist,
        case,
        version=case.version,
        operators="Dr Rita Radiologist",
        override_reason=journey.start_override,
    )


def _treat(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    for index, name in enumerate(journey.treatment_order or case.level_names):
        done = moment + timedelta(minutes=10 + 15 * index)
        with clock.frozen_at(min(done, journey.not_after or done)):
            mixed = clock.current() - timedelta(minutes=2)
            procedure.record_level(
                team.radiologist,
                case,
                procedure.LevelInput(
                    level=name,
                    sides="bilateral",
                    cement_product="kyphon-hv-r",
                    cement_lot=f"K{7700 + index}",
                    cement_mixed_at=mixed,
                    cement_ml_left=Decimal("2.4"),
                    cement_ml_right=Decimal("2.6"),
                    balloon_size="15 mm",
                    balloon_ml_left=Decimal("2.5"),
                    balloon_ml_right=Decimal("2.5"),
                    biopsy=case.etiology == "neoplastic",
                ),
            )
    ended = moment + timedelta(minutes=90)
    with clock.frozen_at(min(ended, journey.not_after or ended)):
        case.refresh_from_db()
        procedure.end_procedure(
            team.radiologist,
            case,
            version=case.version,
            data_in=procedure.EndInput(
                clock.current() - timedelta(minutes=5),
                fluoro_seconds=240,
                air_kerma_mgy=Decimal("310.5"),
                dap_gycm2=Decimal("28.4"),
            ),
        )
        if journey.sign_out:
            procedure.sign_checklist(team.radiologist, case, "sign_out", _items("sign_out"))
            procedure_note.sign(team.radiologist, case)


ROUTINE_CHECK = aftercare.CheckInput(
    legs_strength_normal=True,
    legs_sensation_normal=True,
    bp_systolic=128,
    bp_diastolic=76,
    heart_rate=74,
    spo2=97,
    pain_nrs=3,
)


def _discharge(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    # Two checks on the way to the ward, as the site's discharge policy asks (by default: 2 checks, 4 h).
    for minutes in (100, 300):
        with clock.frozen_at(min(_start(case) + timedelta(minutes=minutes), moment)):
            aftercare.record_check(team.ward_nurse, case, ROUTINE_CHECK)
            if minutes == 100:
                aftercare.admit_to_ward(team.ward_nurse, case, journey.ward_bed)
    case.refresh_from_db()
    aftercare.discharge(team.ward_nurse, case, version=case.version, criteria=set(aftercare.DISCHARGE_CRITERIA))


def _follow_up(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    followup.record_visit(
        team.radiologist,
        case,
        journey.visit,
        version=case.version,
        questionnaire=questionnaires.recovery(),
        answers=dict(journey.visit_answers),
    )


def _close(case: Case, team: Team, journey: Journey, moment: datetime) -> None:
    followup.close_case(team.radiologist, case, version=case.version)


def _items(part: str) -> set[str]:
    return {key for key, _label in procedure.checklist_items(part)}


@dataclass(frozen=True)
class Step:
    moment: Callable[[Case], datetime]
    run: Callable[[Case, Team, Journey, datetime], None]


# From each stage, when the next step happens and what it does.
STEPS: dict[Stage, Step] = {
    Stage.SCHEDULED: Step(_call_moment, _call),
    Stage.PRECALL_DONE: Step(lambda c: _start(c) - timedelta(minutes=90), _admit),
    Stage.ADMITTED: Step(lambda c: _start(c) - timedelta(minutes=10), _clear),
    Stage.CLEARED: Step(_start, _begin),
    Stage.IN_PROCEDURE: Step(_start, _treat),
    Stage.RECOVERY: Step(lambda c: _start(c) + timedelta(hours=26), _discharge),
    Stage.DISCHARGED: Step(lambda c: _start(c) + timedelta(days=10), _follow_up),
    Stage.FOLLOWUP_DONE: Step(lambda c: _start(c) + timedelta(days=10, hours=1), _close),
}
