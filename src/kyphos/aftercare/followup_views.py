"""Staff screens after discharge: the patient's diary, the follow-up worklist, the follow-up visit, referrals."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyphos import clock
from kyphos.aftercare import chart, diary, followup, questionnaires
from kyphos.aftercare import selectors as aftercare_selectors
from kyphos.aftercare.models import CaseOutcome, FollowUpRecord, QuestionnaireResponse
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput
from kyphos.formfields import REFUSALS, CleanText, between, put_errors, refusal_text
from kyphos.messaging.letters import current_letter, serve_letter
from kyphos.messaging.models import Letter
from kyphos.paging import CappedPaginator
from kyphos.pathway import selectors
from kyphos.pathway import services as pathway
from kyphos.pathway.models import Case, Task, TaskKind, TaskStatus
from kyphos.pathway.policy import may, site_ids_of
from kyphos.scheduling.models import Site

FOLLOW_UP_PAGE = 25  # rows per group and page
DIARY_TASKS = [TaskKind.DIARY_EMERGENCY, TaskKind.DIARY_SAME_DAY, TaskKind.DIARY_REVIEW]


def _case(request: HttpRequest, case_uuid: UUID) -> Case:
    if not may(request.user, "case.view"):
        raise PermissionDenied(_("Your role does not allow this."))
    case = selectors.case_by_uuid(case_uuid)
    if case is None:
        raise Http404("No such case.")
    return case


def _banner(case: Case) -> dict[str, Any]:
    return selectors.banner(case)


def _chart(case: Case) -> dict[str, Any]:
    found = chart.points(case)
    return {
        "points": found,
        "line": chart.polyline(found),
        "grid": chart.grid(),
        "width": chart.WIDTH,
        "height": chart.HEIGHT,
        "left": chart.LEFT,
        "baseline_y": chart.HEIGHT - chart.BOTTOM + 20,
    }


@login_required
@require_http_methods(["GET", "POST"])
def diary_page(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """The patient's diary as staff see it: the chart, every entry, and the open diary tasks to answer."""
    case = _case(request, case_uuid)
    actor = Actor.from_request(request)
    if request.method == "POST":
        try:
            task_uuid = UUID(request.POST.get("task", ""))
        except ValueError:
            raise Http404("No such task.") from None
        task = Task.objects.filter(case=case, uuid=task_uuid, kind__in=DIARY_TASKS).first()
        if task is None:
            raise Http404("No such task.")
        try:
            pathway.complete_task(actor, task, request.POST.get("outcome", ""))
        except REFUSALS as exc:
            messages.error(request, refusal_text(exc))
        else:
            messages.success(request, _("Task done."))
        return redirect("aftercare:diary", case_uuid=case.uuid)
    audit.record(actor, AuditAction.VIEW, "diary", case.uuid, patient_uuid=case.patient.uuid)
    return render(
        request,
        "aftercare/diary.html",
        {
            **_banner(case),
            **_chart(case),
            "entries": diary.entries(case)[::-1],
            "tasks": list(Task.objects.filter(case=case, kind__in=DIARY_TASKS).order_by("-created_at")),
            "flags": case.site.redflags().flags,
        },
    )


@login_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    if not may(request.user, "case.list"):
        raise PermissionDenied(_("Your role does not allow this."))
    mine = site_ids_of(request.user)
    sites = Site.objects.filter(active=True) if mine is None else Site.objects.filter(active=True, id__in=mine)
    site = sites.filter(code=request.GET.get("site", "")).first()
    now = clock.current()
    pages, rows = {}, {}
    for group in aftercare_selectors.WORKLIST_GROUPS:
        page = CappedPaginator(aftercare_selectors.worklist_cases(site, group, mine), FOLLOW_UP_PAGE).get_page(
            request.GET.get(f"{group}_page")
        )
        pages[group], rows[group] = page, aftercare_selectors.worklist_rows(page.object_list, now)
    shown = [(r.case.uuid, r.case.patient.uuid) for group in rows.values() for r in group]
    audit.record_list(Actor.from_request(request), "follow_up_list", shown, detail="follow-up worklist")
    return render(
        request,
        "aftercare/follow_up_list.html",
        {"rows": rows, "pages": pages, "sites": sites, "site": site, "now": now},
    )


class VisitForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    pain_today = forms.IntegerField(label=_("Pain today (0–10)"), **between(0, 10))
    complications = forms.MultipleChoiceField(
        label=_("Complications since discharge"),
        required=True,
        choices=list(followup.COMPLICATIONS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    complication_note = CleanText(
        label=_("Complication details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    new_fracture_suspected = forms.BooleanField(label=_("New fracture suspected: order imaging"), required=False)
    pt_referral = forms.BooleanField(label=_("Refer to physical therapy"), required=False)
    pt_note = CleanText(
        label=_("Physical therapy: goals and precautions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    bmd_referral = forms.BooleanField(label=_("Refer for bone density (DXA) and osteoporosis care"), required=False)
    bmd_note = CleanText(label=_("Bone health notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.ChoiceField(label=_("Next"), choices=FollowUpRecord.Outcome.choices, widget=forms.RadioSelect)
    note = CleanText(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    window_reason = CleanText(
        label=_("Reason to record the visit outside the 7–14-day window (only when the page asks)"),
        required=False,
        max_length=300,
    )

    def __init__(self, *args: Any, held: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = held or []
        for med in self.held:
            self.fields[f"med_{med.pk}"] = forms.ChoiceField(
                label=format_lazy(_("{name}: restarted?"), name=med.name),
                choices=list(followup.RESTART_CHOICES.items()),
                widget=forms.RadioSelect,
            )

    def visit_input(self) -> followup.VisitInput:
        data = self.cleaned_data
        return followup.VisitInput(
            pain_today=data["pain_today"],
            outcome=data["outcome"],
            medicines_restarted={med.name: data[f"med_{med.pk}"] for med in self.held},
            complications=tuple(data["complications"]),
            complication_note=data["complication_note"],
            new_fracture_suspected=data["new_fracture_suspected"],
            pt_referral=data["pt_referral"],
            pt_note=data["pt_note"],
            bmd_referral=data["bmd_referral"],
            bmd_note=data["bmd_note"],
            note=data["note"],
            window_reason=data["window_reason"],
        )


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_page(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """The radiologist's follow-up visit: chart, medicines restarted, complications, questionnaire, orders."""
    case = _case(request, case_uuid)
    actor = Actor.from_request(request)
    held = aftercare_selectors.restart_lines(case)
    available = questionnaires.available()
    wanted = request.POST.get("questionnaire") or request.GET.get("questionnaire", "")
    chosen = next((q for q in available if str(q.pk) == wanted), None) or questionnaires.recovery()
    form = VisitForm(initial={"version": case.version}, held=held)
    answers: dict[str, Any] = {}
    q_errors: dict[str, Any] = {}
    if request.method == "POST":
        form = VisitForm(request.POST, held=held)
        answers = {
            item.link_id: request.POST.get(f"q_{item.link_id}", "") for item in questionnaires.instrument(chosen).items
        }
        if form.is_valid():
            try:
                followup.record_visit(
                    actor,
                    case,
                    form.visit_input(),
                    version=form.cleaned_data["version"],
                    questionnaire=chosen,
                    answers=answers,
                )
            except ValidationError as exc:
                found = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                q_errors = {k: v for k, v in found.items() if k.startswith("q_")}
                rest = {k: v for k, v in found.items() if not k.startswith("q_")}
                put_errors(form, ValidationError(rest or _("Some questionnaire answers need attention.")))
            except REFUSALS as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Follow-up visit recorded."))
                return redirect("aftercare:follow_up", case_uuid=case.uuid)
    audit.record(actor, AuditAction.VIEW, "follow_up", case.uuid, patient_uuid=case.patient.uuid)
    previsit = QuestionnaireResponse.objects.filter(case=case, context__in=["baseline", "previsit"]).select_related(
        "questionnaire"
    )
    return render(
        request,
        "aftercare/follow_up.html",
        {
            **_banner(case),
            **_chart(case),
            "form": form,
            "held": held,
            "records": list(FollowUpRecord.objects.filter(case=case)),
            "questionnaires": available,
            "chosen": chosen,
            "questions": questionnaires.question_rows(
                questionnaires.instrument(chosen), get_language() or "en", answers, q_errors, prefix="q_"
            ),
            "q_errors": q_errors,
            "responses": list(previsit),
            "outcome": CaseOutcome.objects.filter(case=case).first(),
            "pt_letter": current_letter(case, Letter.Kind.PT_REFERRAL),
            "bmd_letter": current_letter(case, Letter.Kind.BMD_REFERRAL),
            "can_record": may(request.user, "case.complete_followup") and case.stage == "discharged",
            "outside_window": followup.outside_window(case, clock.current()) if case.stage == "discharged" else "",
            "can_close": may(request.user, "case.close") and case.stage == "followup_done",
            "close_findings": followup.close_findings(case) if case.stage == "followup_done" else [],
            "diary_tasks": Task.objects.filter(case=case, kind__in=DIARY_TASKS, status=TaskStatus.OPEN).count(),
        },
        status=400 if form.errors or q_errors else 200,
    )


@login_required
@require_GET
def referral_letter(request: HttpRequest, case_uuid: UUID, kind: str, fmt: str) -> HttpResponse:
    case = _case(request, case_uuid)
    if kind not in (Letter.Kind.PT_REFERRAL, Letter.Kind.BMD_REFERRAL):
        raise Http404("No such letter.")
    letter = current_letter(case, kind)
    if letter is None:
        raise Http404("No such letter yet.")
    return serve_letter(Actor.from_request(request), case, letter, fmt)


@login_required
@require_POST
def close_case(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    case = _case(request, case_uuid)
    version = request.POST.get("version", "")
    try:
        if not version.isdigit():
            raise InvalidInput(_("The form was incomplete; reload the page and try again."))
        followup.close_case(
            Actor.from_request(request), case, version=int(version), note=request.POST.get("note", "")[:2000]
        )
    except REFUSALS as exc:
        messages.error(request, refusal_text(exc))
        return redirect("aftercare:follow_up", case_uuid=case.uuid)
    messages.success(request, _("Case closed."))
    return redirect("case_detail", case_uuid=case.uuid)
