"""The call page, call attempts, the patient's letter, and agreeing a medicine plan."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.formfields import REFUSALS, put_errors
from kyphos.messaging.letters import current_letter, serve_letter
from kyphos.messaging.models import Letter
from kyphos.pathway import kernel, selectors
from kyphos.pathway.models import Case, Task, TaskKind
from kyphos.precall import services
from kyphos.precall.forms import AttemptForm, CallForm
from kyphos.precall.models import CallAttempt, PreCall
from kyphos.rules import precall as precall_rules
from kyphos.rules.medicines import catalogue
from kyphos.scheduling.models import Site


def _require(request: HttpRequest, permission: str) -> None:
    kernel.require(Actor.from_request(request), permission)  # a 403 with the permission named


def _drug_names() -> list[str]:
    names = set()
    for drug in catalogue().values():
        names.add(drug.generic)
        names.update(drug.brands)
    return sorted(names, key=str.lower)


def _context(request: HttpRequest, case: Case, call: PreCall, form: CallForm) -> dict[str, Any]:
    appointment = case.appointment
    fasting = {name: int(item.value) for name, item in precall_rules.fasting_hours().items()}
    return {
        "case": case,
        "patient": case.patient,
        "call": call,
        "form": form,
        "attempt_form": AttemptForm(),
        "attempts": list(CallAttempt.objects.filter(case=case).order_by("-at")),
        "medications": list(call.medications.all()),
        **selectors.banner(case),
        "findings": call.findings,
        "drug_names": _drug_names(),
        "fasting": fasting,
        "arrival": appointment.arrival_at if appointment else None,
        "missing": services.missing_for_signature(call),
        "task": call.task,
        "guideline_label": dict(Site._meta.get_field("anticoagulant_guideline").choices or []).get(
            call.guideline, call.guideline
        ),
    }


def _unavailable(request: HttpRequest, actor: Actor, case: Case, reasons: list[str]) -> HttpResponse:
    audit.record(
        actor,
        AuditAction.REFUSED,
        "precall",
        case.uuid,
        patient_uuid=case.patient.uuid,
        detail="call not opened",
    )
    return render(request, "precall/unavailable.html", {"case": case, "reasons": reasons}, status=409)


@login_required
@require_http_methods(["GET", "POST"])
def call_page(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """GET reads only: the call form once this nurse has taken the call, else the attempts and a "take" button."""
    _require(request, "case.complete_precall")
    case = selectors.case_or_404(case_uuid)
    actor = Actor.from_request(request)
    reason = services.why_call_unavailable(actor, case)
    if reason:
        return _unavailable(request, actor, case, [reason])
    if request.method == "GET":
        draft = services.draft_in_hand(actor, case)
        audit.record(
            actor,
            AuditAction.VIEW,
            "precall",
            case.uuid,
            patient_uuid=case.patient.uuid,
            detail="call page" if draft else "call page (not taken)",
        )
        if draft is None:
            return render(
                request,
                "precall/start.html",
                {
                    **selectors.banner(case),
                    "task": services.call_task(case),
                    "attempt_form": AttemptForm(),
                    "attempts": list(CallAttempt.objects.filter(case=case).order_by("-at")),
                },
            )
        form = CallForm(initial=CallForm.initial_from(draft), zone=case.site.zone)
        return render(request, "precall/call.html", _context(request, case, draft, form))
    try:
        call = services.open_call(actor, case)
    except ValidationError as exc:
        return _unavailable(request, actor, case, exc.messages)
    if request.POST.get("action") == "take":
        return redirect("precall:call", case_uuid=case.uuid)
    form = CallForm(request.POST, zone=case.site.zone)
    if form.is_valid():
        signing = request.POST.get("action") == "sign"
        try:
            # One transaction: a refused signature leaves the draft exactly as it was before this post.
            with transaction.atomic():
                call = services.save_call(actor, call, version=form.cleaned_data["version"], data=form.call_input())
                if signing:
                    services.sign_call(actor, call, version=call.version)
            if signing:
                messages.success(request, _("Call signed. The patient's letter is ready to print or send."))
                return redirect("case_detail", case_uuid=case.uuid)
        except REFUSALS as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Saved. The plan and findings below are up to date."))
            return redirect("precall:call", case_uuid=case.uuid)
    call.refresh_from_db()
    return render(request, "precall/call.html", _context(request, case, call, form), status=400)


@login_required
@require_POST
def attempt(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _require(request, "case.complete_precall")
    case = selectors.case_or_404(case_uuid)
    form = AttemptForm(request.POST)
    if form.is_valid():
        moment = form.cleaned_data.get("call_back_at")
        if moment is not None:
            moment = moment.replace(tzinfo=None).replace(tzinfo=case.site.zone)
        try:
            services.record_attempt(
                Actor.from_request(request),
                case,
                form.cleaned_data["outcome"],
                call_back_at=moment,
                note=form.cleaned_data.get("note", ""),
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Attempt recorded."))
            if request.POST.get("next") == "home":
                return redirect("home")
            return redirect("precall:call", case_uuid=case.uuid)
    if request.POST.get("next") == "home":
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("home")
    # Shown again with what was chosen (a "call back" without its time keeps the outcome) and the error beside it.
    actor = Actor.from_request(request)
    draft = services.draft_in_hand(actor, case)
    if draft is not None:
        context = _context(request, case, draft, CallForm(initial=CallForm.initial_from(draft), zone=case.site.zone))
        return render(request, "precall/call.html", context | {"attempt_form": form}, status=400)
    context = {
        **selectors.banner(case),
        "task": services.call_task(case),
        "attempt_form": form,
        "attempts": list(CallAttempt.objects.filter(case=case).order_by("-at")),
    }
    return render(request, "precall/start.html", context, status=400)


def _letter(request: HttpRequest, case_uuid: UUID) -> tuple[Case, Letter]:
    _require(request, "case.view")
    case = selectors.case_or_404(case_uuid)
    letter = current_letter(case, Letter.Kind.PRE_PROCEDURE)
    if letter is None:
        raise Http404("No letter yet: it is written when the call is signed.")
    return case, letter


@login_required
@require_GET
def letter_html(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    case, letter = _letter(request, case_uuid)
    return serve_letter(Actor.from_request(request), case, letter, "html")


@login_required
@require_GET
def letter_pdf(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    case, letter = _letter(request, case_uuid)
    return serve_letter(Actor.from_request(request), case, letter, "pdf")


@login_required
@require_POST
def agree(request: HttpRequest, task_uuid: UUID) -> HttpResponse:
    _require(request, "case.complete_precall")
    task = Task.objects.select_related("case").filter(uuid=task_uuid, kind=TaskKind.CONTACT_PRESCRIBER).first()
    if task is None:
        raise Http404("No such task.")
    try:
        med = services.agree_medication_plan(Actor.from_request(request), task, request.POST.get("note", "")[:300])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, format_lazy(_("Plan for {name} marked as agreed with the prescriber."), name=med.name)
        )
    return redirect("case_detail", case_uuid=task.case.uuid)
