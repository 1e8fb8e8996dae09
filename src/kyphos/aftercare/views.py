"""The recovery page: checks (overdue and worse-neuro alerts), the ward, pain scores, discharge and its letter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from kyphos import when
from kyphos.aftercare import selectors as aftercare_selectors
from kyphos.aftercare import services
from kyphos.aftercare.models import PainScore, RecoveryCheck, Stay
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput
from kyphos.formfields import REFUSALS, CleanText, between, put_errors, refusal_text
from kyphos.messaging.letters import current_letter, serve_letter
from kyphos.messaging.models import Letter
from kyphos.pathway import selectors
from kyphos.pathway.models import Case
from kyphos.pathway.policy import may


class CheckForm(forms.Form):
    prefix = "chk"
    legs_strength_normal = forms.BooleanField(label=_("Leg strength as before"), required=False)
    legs_sensation_normal = forms.BooleanField(label=_("Leg sensation as before"), required=False)
    bp_systolic = forms.IntegerField(
        label=_("BP systolic"), required=False, **between(*services.CHECK_BOUNDS["bp_systolic"])
    )
    bp_diastolic = forms.IntegerField(
        label=_("BP diastolic"), required=False, **between(*services.CHECK_BOUNDS["bp_diastolic"])
    )
    heart_rate = forms.IntegerField(
        label=_("Heart rate"), required=False, **between(*services.CHECK_BOUNDS["heart_rate"])
    )
    spo2 = forms.IntegerField(label=_("SpO₂ %"), required=False, **between(*services.CHECK_BOUNDS["spo2"]))
    pain_nrs = forms.IntegerField(label=_("Pain (0–10)"), required=False, **between(*services.CHECK_BOUNDS["pain_nrs"]))
    puncture_sites = forms.ChoiceField(label=_("Puncture sites"), choices=RecoveryCheck.Sites.choices)
    note = CleanText(label=_("Note"), required=False, max_length=300)


class DischargeForm(forms.Form):
    prefix = "dis"
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = CleanText(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    early_reason = CleanText(
        label=_("Reason to discharge earlier (radiologist, only when the page asks)"), required=False, max_length=300
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in services.DISCHARGE_CRITERIA.items():
            self.fields[key] = forms.BooleanField(label=label, required=False)

    def criteria(self) -> set[str]:
        return {key for key in services.DISCHARGE_CRITERIA if self.cleaned_data.get(key)}


def _case(case_uuid: UUID) -> Case:
    case = selectors.case_by_uuid(case_uuid)
    if case is None:
        raise Http404("No such case.")
    return case


def _need_view(request: HttpRequest) -> None:
    if not may(request.user, "case.view"):
        raise PermissionDenied(_("Your role does not allow this."))


@login_required
@require_GET
def recovery_page(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """Recovery and the ward: checks, pain, the move to the ward and discharge. Each form posts to its own view."""
    _need_view(request)
    return _recovery_page(request, _case(case_uuid))


def _recovery_page(
    request: HttpRequest,
    case: Case,
    check_form: CheckForm | None = None,
    discharge_form: DischargeForm | None = None,
) -> HttpResponse:
    actor = Actor.from_request(request)
    audit.record(actor, AuditAction.VIEW, "recovery", case.uuid, patient_uuid=case.patient.uuid, detail="recovery")
    stay = Stay.objects.filter(case=case).first()
    context = {
        **selectors.banner(case),
        "checks": list(RecoveryCheck.objects.filter(case=case)),
        "stay": stay,
        "overdue": aftercare_selectors.check_overdue(case),
        "interval": int(aftercare_selectors.check_interval().total_seconds() // 60),
        "pain_scores": list(PainScore.objects.filter(case=case)),
        "check_form": check_form or CheckForm(),
        "discharge_form": discharge_form or DischargeForm(initial={"version": case.version}),
        "too_early": services.discharge_questions(case) if case.stage == "recovery" else [],
        "held": aftercare_selectors.restart_lines(case),
        "visit": aftercare_selectors.follow_up_visit(case),
        "letter": current_letter(case, Letter.Kind.DISCHARGE),
        "los": when.duration(span) if (span := aftercare_selectors.length_of_stay(case)) else "",
        "neuro_alert": any(f.get("code") == "recovery.neuro_worse" for f in case.findings),
    }
    failed = check_form is not None or discharge_form is not None
    return render(request, "aftercare/recovery.html", context, status=400 if failed else 200)


def _saved(request: HttpRequest, case: Case) -> HttpResponse:
    messages.success(request, _("Saved."))
    return redirect("aftercare:recovery", case_uuid=case.uuid)


@login_required
@require_POST
def record_check(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need_view(request)
    case, form = _case(case_uuid), CheckForm(request.POST)
    if form.is_valid():
        try:
            services.record_check(Actor.from_request(request), case, services.CheckInput(**form.cleaned_data))
        except REFUSALS as exc:
            put_errors(form, exc)
        else:
            return _saved(request, case)
    return _recovery_page(request, _case(case_uuid), check_form=form)


def _run(request: HttpRequest, case: Case, run: Callable[[], object]) -> HttpResponse:
    """An action without a form of its own: a refusal goes at the top of the recovery page."""
    try:
        run()
    except REFUSALS as exc:
        messages.error(request, refusal_text(exc))
        return redirect("aftercare:recovery", case_uuid=case.uuid)
    return _saved(request, case)


@login_required
@require_POST
def to_ward(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need_view(request)
    case = _case(case_uuid)
    bed = request.POST.get("bed", "")[:40]
    return _run(request, case, lambda: services.admit_to_ward(Actor.from_request(request), case, bed))


@login_required
@require_POST
def record_pain(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need_view(request)
    case = _case(case_uuid)
    value = request.POST.get("nrs", "")

    def run() -> object:
        if not value.strip().isdigit():
            raise InvalidInput(_("Enter pain as a whole number from 0 to 10."), field="nrs")
        return services.record_pain(Actor.from_request(request), case, int(value))

    return _run(request, case, run)


@login_required
@require_POST
def discharge(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need_view(request)
    case, form = _case(case_uuid), DischargeForm(request.POST)
    if form.is_valid():
        try:
            services.discharge(
                Actor.from_request(request),
                case,
                version=form.cleaned_data["version"],
                criteria=form.criteria(),
                note=form.cleaned_data["note"],
                early_reason=form.cleaned_data["early_reason"],
            )
        except REFUSALS as exc:
            put_errors(form, exc)
        else:
            return _saved(request, case)
    return _recovery_page(request, _case(case_uuid), discharge_form=form)


@login_required
@require_GET
def discharge_letter(request: HttpRequest, case_uuid: UUID, fmt: str) -> HttpResponse:
    if not may(request.user, "case.view"):
        raise PermissionDenied(_("Your role does not allow this."))
    case = _case(case_uuid)
    letter = current_letter(case, Letter.Kind.DISCHARGE)
    if letter is None:
        raise Http404("No discharge letter yet.")
    return serve_letter(Actor.from_request(request), case, letter, fmt)
