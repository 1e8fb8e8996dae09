"""A tour of every page of the pathway in the demo department: who opens it and where it is.

The accessibility test walks it with axe-core, and `make screens` photographs it (staff at 1280 px, the patient's
pages at 390 px) into docs/screens/. Both run against a database holding the demo department (``load_demo``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from kyphos.audit.actor import Actor
from kyphos.messaging import links
from kyphos.pathway.models import Case
from kyphos.pathway.stages import Stage
from kyphos.patients.models import Patient

STAFF_WIDTH = 1280
PHONE_WIDTH = 390


@dataclass(frozen=True)
class Stop:
    name: str  # the screenshot's file name, and the test's label
    user: str  # the demo user who opens it ("" for the patient's own pages and the sign-in page)
    path: str
    phone: bool = False


def _case(stage: Stage, stops: bool | None = None) -> Case:
    cases = Case.objects.filter(stage=stage, site__code="HOSP").order_by("id")
    if stops is not None:
        cases = cases.filter(open_stops__gt=0) if stops else cases.filter(open_stops=0)
    case = cases.first() or Case.objects.filter(stage=stage).order_by("id").first()
    if case is None:
        raise LookupError(f"The demo department has no case at {stage}.")
    return case


def staff_stops() -> list[Stop]:
    """The staff pages, each opened by the role that works there, in the order of the pathway."""

    def url(name: str, case: Case) -> str:
        return reverse(name, args=[case.uuid])

    referred, triaged, scheduled = _case(Stage.REFERRED), _case(Stage.TRIAGED), _case(Stage.SCHEDULED)
    flagged, called = _case(Stage.PRECALL_DONE, stops=True), _case(Stage.PRECALL_DONE, stops=False)
    in_procedure, recovery = _case(Stage.IN_PROCEDURE), _case(Stage.RECOVERY)
    discharged, closed = _case(Stage.DISCHARGED), _case(Stage.CLOSED)
    patient = Patient.objects.filter(cases=discharged).first()
    return [
        Stop("01-sign-in", "", reverse("login")),
        Stop("02-home-scheduler", "scheduler", reverse("home")),
        Stop("03-referral-new", "scheduler", reverse("referral_new")),
        Stop("04-case-list", "scheduler", reverse("case_list")),
        Stop("05-triage", "radiologist", url("case_detail", referred)),
        Stop("06-booking", "scheduler", url("case_book", triaged)),
        Stop("07-home-nurse", "nurse", reverse("home")),
        Stop("08-call", "nurse", url("precall:call", scheduled)),
        Stop("09-stop-decision", "radiologist", url("case_detail", flagged)),
        Stop("10-day-list", "wardnurse", reverse("day_list")),
        Stop("11-admission", "wardnurse", url("procedure:admission", called)),
        Stop("12-procedure", "radiologist", url("procedure:page", in_procedure)),
        Stop("13-procedure-note", "radiologist", url("procedure:page", recovery)),
        Stop("14-recovery", "wardnurse", url("aftercare:recovery", recovery)),
        Stop("15-follow-up-list", "radiologist", reverse("aftercare:follow_up_list")),
        Stop("16-follow-up", "radiologist", url("aftercare:follow_up", discharged)),
        Stop("17-diary", "nurse", url("aftercare:diary", discharged)),
        Stop("18-closed-case", "manager", url("case_detail", closed)),
        Stop("19-patient", "scheduler", reverse("patient_detail", args=[patient.uuid]) if patient else "/"),
        Stop("20-messages-not-sent", "manager", reverse("messages_not_sent")),
        Stop("21-audit", "auditor", reverse("audit")),
        Stop("22-outside-imaging", "scheduler", url("imaging:page", scheduled)),
        Stop("23-dashboard", "manager", reverse("reports:dashboard")),
    ]


def patient_stops() -> list[Stop]:
    """The patient's own pages on a phone: the date-of-birth check every new link asks first (the demo sites keep
    it on), then the pages themselves before the procedure, and the diary after it, by links issued here without
    the check so that each page is seen as it is."""
    system = Actor.system("tour")
    asks = links.path_for(links.issue(system, _case(Stage.PRECALL_DONE), require_dob=True))
    before = links.path_for(links.issue(system, _case(Stage.SCHEDULED), require_dob=False))
    after = links.path_for(links.issue(system, _case(Stage.DISCHARGED), require_dob=False))
    return [
        Stop("29-patient-date-of-birth", "", asks, phone=True),
        Stop("30-patient-home", "", before, phone=True),
        Stop("31-patient-checklist", "", before + "checklist/", phone=True),
        Stop("32-patient-after", "", after, phone=True),
        Stop("33-patient-diary", "", after + "diary/", phone=True),
        Stop("34-patient-questions", "", after + "questions/", phone=True),
    ]
