"""The procedure day through its services: admission, labs, the checklist, the start guard, levels, the note."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kyphos.demo.builder import Journey
from kyphos.labs import services as labs
from kyphos.pathway.errors import GuardBlocked, NotPermitted
from kyphos.pathway.stages import Stage
from kyphos.procedure import note as procedure_note
from kyphos.procedure import services
from kyphos.procedure.models import ProcedureNote, TreatedLevel
from kyphos.procedure.services import AdmissionInput, EndInput, LevelInput
from tests.conftest import ARRIVAL, MONDAY, advance, case_at, no_labs, planned

pytestmark = pytest.mark.django_db
GOOD_ADMISSION = AdmissionInput(
    identity_band=True,
    consent_signed=True,
    driver_confirmed=True,
    iv_access=True,
    allergies_reconfirmed=True,
    medicine_plan_followed=True,
    last_clear_liquid_at=MONDAY - timedelta(hours=3),
    last_light_meal_at=MONDAY - timedelta(hours=12),
)
SIGN_IN = {key for key, _ in services.checklist_items("sign_in")}
TIME_OUT = {key for key, _ in services.checklist_items("time_out")}
SIGN_OUT = {key for key, _ in services.checklist_items("sign_out")}


def level(name: str, mixed: datetime, **overrides: Any) -> LevelInput:
    values: dict[str, Any] = {
        "level": name,
        "sides": "bilateral",
        "cement_product": "kyphon-hv-r",
        "cement_lot": "LOT-42",
        "cement_mixed_at": mixed,
        "cement_ml_left": Decimal("2.4"),
        "cement_ml_right": Decimal("2.6"),
    }
    values.update(overrides)
    return LevelInput(**values)


def test_only_a_radiologist_may_override(make_case: Any, actors: dict[str, Any]) -> None:
    case = make_case("scheduled", start=MONDAY)
    # Admission without the pre-call is a stop; the ward nurse may not override it, the radiologist cannot admit.
    with time_machine.travel(ARRIVAL):
        with pytest.raises(GuardBlocked, match="Only a radiologist"):
            services.admit(
                actors["ward_nurse"],
                case,
                version=case.version,
                data_in=GOOD_ADMISSION,
                override_reason="urgent",
            )
        with pytest.raises(GuardBlocked, match="pre-procedure call"):
            services.admit(actors["ward_nurse"], case, version=case.version, data_in=GOOD_ADMISSION)


def test_admission_moves_the_case_and_labs_are_recorded(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "admitted")
    assert case.stage == Stage.ADMITTED
    assert services.readiness_findings(case)[0].code.startswith("checklist.")


def test_good_labs_and_checklist_leave_nothing_open(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared")
    assert services.readiness_findings(case) == []


@pytest.mark.parametrize(
    "code,value,finding", [("inr", "1.9", "labs.inr_high"), ("platelets", "40", "labs.platelets_low")]
)
def test_out_of_range_labs_stop_the_start(
    make_case: Any, actors: dict[str, Any], code: str, value: str, finding: str
) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY - timedelta(minutes=5)):
        labs.record_lab(actors["ward_nurse"], case, code, value=value, taken_at=MONDAY - timedelta(minutes=30))
        assert finding in {f.code for f in services.readiness_findings(case)}
        with pytest.raises(GuardBlocked):
            services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
    case.refresh_from_db()
    assert case.stage == Stage.CLEARED  # sign-in cleared it; the stop kept it out of the procedure


def test_stale_labs_stop(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared", no_labs())
    with time_machine.travel(MONDAY - timedelta(minutes=5)):
        for code, value in (("inr", "1.1"), ("platelets", "200"), ("hemoglobin", "13")):
            labs.record_lab(actors["ward_nurse"], case, code, value=value, taken_at=MONDAY - timedelta(days=8))
        assert "labs.stale.inr" in {f.code for f in services.readiness_findings(case)}


def test_a_positive_hcg_stops(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY - timedelta(minutes=5)):
        labs.record_lab(actors["ward_nurse"], case, "hcg", positive=True, taken_at=MONDAY - timedelta(minutes=20))
        assert "labs.hcg_positive" in {f.code for f in services.readiness_findings(case)}


def test_missing_checklist_parts_cannot_be_overridden(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "admitted")
    with time_machine.travel(MONDAY), pytest.raises(ValidationError, match="Time-out"):
        services.sign_checklist(actors["anesthesia"], case, "sign_in", SIGN_IN)
        services.start_procedure(
            actors["radiologist"],
            case,
            version=case.version,
            operators="Dr Rita",
            override_reason="in a hurry",
        )


def test_the_checklist_needs_every_item_and_its_order(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "admitted")
    with pytest.raises(ValidationError, match="Sign sign-in first"):
        services.sign_checklist(actors["radiologist"], case, "time_out", TIME_OUT)
    with pytest.raises(ValidationError, match="Not confirmed: Consent"):
        services.sign_checklist(actors["anesthesia"], case, "sign_in", SIGN_IN - {"consent"})
    with pytest.raises(NotPermitted):
        services.sign_checklist(actors["scheduler"], case, "sign_in", SIGN_IN)


def test_more_than_three_levels_is_a_caution_at_time_out(make_case: Any, actors: dict[str, Any]) -> None:
    from kyphos.pathway.services import LevelInput as Planned

    many = [Planned(lv, "acute", "yes") for lv in ("T10", "T11", "T12", "L1")]
    case = case_at(make_case, actors, "precall_done", levels=many)
    with time_machine.travel(ARRIVAL):
        services.admit(actors["ward_nurse"], case, version=case.version, data_in=GOOD_ADMISSION)
    case.refresh_from_db()
    advance(case, actors, "cleared")
    assert "4 levels" in case.events.filter(summary__startswith="Time-out").get().summary
    assert "relative.too_many_levels" in {f.code for f in services.readiness_findings(case)}


def test_a_radiologist_may_override_a_lab_stop_with_a_reason(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY):
        labs.record_lab(actors["ward_nurse"], case, "inr", value="1.7", taken_at=MONDAY - timedelta(minutes=30))
        services.start_procedure(
            actors["radiologist"],
            case,
            version=case.version,
            operators="Dr Rita",
            override_reason="Vitamin K given; hematology agrees",
        )
    case.refresh_from_db()
    assert case.stage == Stage.IN_PROCEDURE


@pytest.mark.parametrize(
    "levels,cpt",
    [
        (["T12"], ["22513"]),
        (["L3"], ["22514"]),
        (["T12", "L1"], ["22513", "22515"]),
        (["L1", "T12"], ["22514", "22515"]),
        (["T10", "T11", "T12", "L1", "L2"], ["22513", "22515", "22515", "22515", "22515"]),
    ],
)
def test_coding_follows_the_treatment_order(
    make_case: Any, actors: dict[str, Any], levels: list[str], cpt: list[str]
) -> None:
    case = case_at(make_case, actors, "recovery", Journey(treatment_order=tuple(levels)), levels=planned(*levels))
    assert case.stage == Stage.RECOVERY
    assert case.procedure.coding["cpt"] == cpt and case.procedure.coding["icd10cm"] == ["M80.08XA"]


def test_the_signed_note_is_immutable_and_takes_addenda(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "recovery")
    with time_machine.travel(MONDAY + timedelta(minutes=95)):
        with pytest.raises(ValidationError, match="sign-out"):
            procedure_note.sign(actors["radiologist"], case)
        services.sign_checklist(actors["radiologist"], case, "sign_out", SIGN_OUT)
        note = procedure_note.sign(actors["radiologist"], case)
        with pytest.raises(ValidationError, match="already signed"):
            procedure_note.sign(actors["radiologist"], case)
    assert "22513 + 22515" in note.html and bytes(note.pdf).startswith(b"%PDF")
    note.html = "rewritten"
    with pytest.raises(RuntimeError):
        note.save()
    services.add_addendum(actors["radiologist"], ProcedureNote.objects.get(case=case), "L1 leakage was venous.")
    assert ProcedureNote.objects.get(case=case).addenda.get().text == "L1 leakage was venous."
    assert "22513 + 22515" in ProcedureNote.objects.get(case=case).html


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"cement_ml_left": Decimal("0")}, "cement_ml_left"),
        ({"cement_ml_right": Decimal("40")}, "cement_ml_right"),
        ({"level": "L4"}, "off_plan_reason"),
        ({"level": "L6"}, "level"),
        ({"sides": "left", "cement_ml_right": Decimal("2")}, "cement_ml_right"),
        ({"leakage": "symptomatic"}, "leakage_location"),
    ],
)
def test_bad_level_input_changes_nothing(
    make_case: Any, actors: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY):
        services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
        case.refresh_from_db()
        with pytest.raises(ValidationError) as info:
            services.record_level(actors["radiologist"], case, level("T12", MONDAY, **overrides))
    assert field in info.value.error_dict
    assert not TreatedLevel.objects.exists()


def test_a_level_not_in_the_plan_with_a_reason(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY):
        services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
        case.refresh_from_db()
        treated = services.record_level(
            actors["radiologist"],
            case,
            level("L4", MONDAY, off_plan_reason="New fracture seen on fluoroscopy"),
        )
    assert treated.off_plan_reason


def test_end_before_start_is_refused(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY + timedelta(minutes=30)):
        services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
        case.refresh_from_db()
        services.record_level(actors["radiologist"], case, level("T12", MONDAY + timedelta(minutes=25)))
        with pytest.raises(ValidationError, match="before the start"):
            services.end_procedure(actors["radiologist"], case, version=case.version, data_in=EndInput(MONDAY))
    case.refresh_from_db()
    assert case.stage == Stage.IN_PROCEDURE


def test_neoplastic_levels_need_a_biopsy(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "cleared", etiology="neoplastic", neoplastic_kind="myeloma")
    with time_machine.travel(MONDAY):
        services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
        case.refresh_from_db()
        with pytest.raises(ValidationError, match="biopsy"):
            services.record_level(actors["radiologist"], case, level("T12", MONDAY))


def test_myeloma_coding(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(
        make_case, actors, "recovery", levels=planned("L2"), etiology="neoplastic", neoplastic_kind="myeloma"
    )
    assert case.procedure.coding["icd10cm"] == ["M84.58XA", "C90.00"]


@pytest.mark.parametrize("code,value", [("inr", "0"), ("inr", "45"), ("platelets", "-3"), ("hemoglobin", "abc")])
def test_impossible_lab_values_are_refused(make_case: Any, actors: dict[str, Any], code: str, value: str) -> None:
    case = case_at(make_case, actors, "precall_done")
    with pytest.raises(ValidationError):
        labs.record_lab(actors["ward_nurse"], case, code, value=value, taken_at=ARRIVAL - timedelta(days=1))
    assert not case.events.filter(summary__startswith="Lab").exists()


def test_fasting_too_close_is_a_stop_for_anesthesia(make_case: Any, actors: dict[str, Any]) -> None:
    case = case_at(make_case, actors, "precall_done")
    with time_machine.travel(ARRIVAL):
        admission = services.admit(
            actors["ward_nurse"],
            case,
            version=case.version,
            data_in=AdmissionInput(
                consent_signed=True,
                medicine_plan_followed=True,
                last_light_meal_at=MONDAY - timedelta(hours=4),
            ),
        )
    assert "fasting.light_meal_hours" in {f["code"] for f in admission.findings}


def test_a_held_heparin_asks_for_an_aptt_or_anti_xa_on_the_day_sir_2019_check_aptt_or_anti_xa(
    make_case: Any, actors: dict[str, Any]
) -> None:
    """SIR 2019 drug table: heparin IV — stop 4–6 h before and check aPTT or anti-Xa. The admission's readiness
    asks for one from the day of the procedure, under the local limit."""
    from kyphos.demo.builder import Journey
    from kyphos.precall.services import MedicationInput

    journey = Journey(medicines=(MedicationInput("heparin-iv", "", "continuous", "vte", "Dr Ward"),))
    case = case_at(make_case, actors, "cleared", journey)
    with time_machine.travel(MONDAY - timedelta(minutes=5)):
        assert "labs.heparin_check_missing" in {f.code for f in services.readiness_findings(case)}
        labs.record_lab(actors["ward_nurse"], case, "aptt", value="55", taken_at=MONDAY - timedelta(minutes=40))
        found = {f.code for f in services.readiness_findings(case)}
        assert "labs.aptt_high" in found and "labs.heparin_check_missing" not in found
        labs.record_lab(actors["ward_nurse"], case, "aptt", value="31", taken_at=MONDAY - timedelta(minutes=20))
        assert not {f.code for f in services.readiness_findings(case)} & {
            "labs.aptt_high",
            "labs.heparin_check_missing",
        }


def test_cement_declared_set_in_the_minute_it_was_mixed_is_questioned(make_case: Any, actors: dict[str, Any]) -> None:
    """Kyphon HV-R sets about 13 min after mixing (working time 8.5 min): a "set" in the same minute is flagged on
    the page and on the timeline; one after the setting time is not."""
    case = case_at(make_case, actors, "cleared")
    with time_machine.travel(MONDAY, tick=False):
        services.start_procedure(actors["radiologist"], case, version=case.version, operators="Dr Rita")
        case.refresh_from_db()
        early = services.record_level(actors["radiologist"], case, level("T12", MONDAY))
        early = services.declare_cement_set(actors["radiologist"], early)
    assert services.cement_set_warning(early).startswith("Cement at T12 declared set 0 h 00 min after mixing")
    assert "Kyphon HV-R sets about 13 min after mixing (working time 8.5 min)" in services.cement_set_warning(early)
    assert case.events.filter(summary__startswith="Cement at T12 declared set").exists()
    with time_machine.travel(MONDAY + timedelta(minutes=20), tick=False):
        late = services.record_level(actors["radiologist"], case, level("L1", MONDAY + timedelta(minutes=5)))
        late = services.declare_cement_set(actors["radiologist"], late)
    assert services.cement_set_warning(late) == ""
