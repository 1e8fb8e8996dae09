"""Staff screens. Each view parses input, checks access, calls one service and renders."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyphos import clock, when
from kyphos.aftercare import followup
from kyphos.aftercare import selectors as aftercare_selectors
from kyphos.aftercare.models import CaseOutcome, DiaryEntry
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import KyphosError
from kyphos.formfields import put_errors
from kyphos.messaging import links, outbox, reminders
from kyphos.messaging.letters import current_letter
from kyphos.messaging.models import Letter, OutboxMessage
from kyphos.paging import COUNT_CAP, CappedPaginator
from kyphos.pathway import selectors, services
from kyphos.pathway.models import Case, Task, TaskKind
from kyphos.pathway.policy import may, site_ids_of
from kyphos.pathway.stages import MOVES, Stage, moves_from
from kyphos.patients.models import Patient
from kyphos.precall import imaging
from kyphos.precall.models import CallStatus, ImportStatus, PatientChecklist
from kyphos.scheduling import selectors as scheduling_selectors
from kyphos.scheduling.models import HOLDS_ROOM, Appointment, AppointmentStatus, Site
from kyphos.web import forms
from kyphos.web.rows import task_rows


def actor_of(request: HttpRequest) -> Actor:
    return Actor.from_request(request)


# Service field names that the staff forms show under another name.
REFERRAL_ALIASES = {"levels": "level_0", "start": "start_time"}


def require(request: HttpRequest, permission: str) -> None:
    if not may(request.user, permission):
        raise PermissionDenied(format_lazy(_("Your role does not allow this ({permission})."), permission=permission))


def _case_or_404(case_uuid: UUID) -> Case:
    case = selectors.case_by_uuid(case_uuid)
    if case is None:
        raise Http404("No such case.")
    return case


@login_required
@require_POST
def keep_alive(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in" from the idle warning: the request itself renews the session (web.middleware)."""
    return HttpResponse(status=204)


NAME_SEARCH_CAP = 1_000


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My worklist: tasks for my roles, unassigned and mine, due now first, then upcoming."""
    if not may(request.user, "worklist.view"):
        if may(request.user, "audit.view"):
            return redirect("audit")
        raise PermissionDenied(_("Your role has no worklist."))
    now = clock.current()
    kind = request.GET.get("kind", "")
    if kind and kind not in TaskKind.values:
        kind = ""
    due = selectors.worklist_due(request.user, now, kind=kind)
    upcoming = selectors.worklist_upcoming(request.user, now, kind=kind)
    counts = selectors.worklist_counts(request.user, now)
    shown = {(item.case_uuid, item.patient_uuid) for item in [*due, *upcoming]}
    audit.record_list(actor_of(request), "worklist", sorted(shown, key=str), detail="worklist")
    token, here = get_token(request), request.get_full_path()
    return render(
        request,
        "kyphos/home.html",
        {
            "due": due,
            "upcoming": upcoming,
            "due_rows": task_rows(due, now, token, here),
            "upcoming_rows": task_rows(upcoming, now, token, here),
            "counts": [(TaskKind(k).label, k, n) for k, n in counts.items()],
            "kind": kind,
            "kind_label": TaskKind(kind).label if kind else "",
            "now": now,
        },
    )


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    require(request, "case.list")
    form = forms.CaseFilterForm(request.GET or None)
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        filters = selectors.CaseFilter(
            stage=data.get("stage", ""),
            site=data.get("site", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            text=data.get("text", ""),
            sites=site_ids_of(request.user),
        )
        # A name search counts no further than 1,000: a person looks for one patient, not a census.
        paginator = CappedPaginator(
            selectors.case_list(filters), 50, cap=NAME_SEARCH_CAP if filters.text.strip() else COUNT_CAP
        )
        page = paginator.get_page(request.GET.get("page"))
        audit.record_list(
            actor_of(request),
            "case",
            [(c.uuid, c.patient.uuid) for c in page.object_list],
            detail="case list",
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    if getattr(request, "htmx", False) and not form.errors:
        return render(request, "kyphos/_case_results.html", context)
    return render(request, "kyphos/case_list.html", context)


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    moves = [m for m in moves_from(case.stage) if may(request.user, m.permission)]
    last_link, patient_link = links.latest(case)
    return {
        "patient_link": patient_link,
        "link_message": reminders.link_message(case, patient_link) if patient_link else None,
        "last_link": last_link,
        **selectors.banner(case),
        "levels": list(case.levels.all()),
        "events": selectors.timeline(case),
        "tasks": selectors.case_tasks(case),
        "findings": case.findings,
        "moves": moves,
        "appointments": list(
            case.site.appointments.filter(case_uuid=case.uuid).select_related("room").order_by("-created_at")
        ),
        "letter": current_letter(case, Letter.Kind.PRE_PROCEDURE),
        "signed_call": case.precalls.filter(status=CallStatus.SIGNED).prefetch_related("medications").first(),
        "messages_sent": list(case.outbox.order_by("-created_at")[:20]),
        "patient_checklist": PatientChecklist.objects.filter(case=case).first(),
        "checklist_items": PatientChecklist.ITEMS,
        "outcome": CaseOutcome.objects.filter(case=case).first(),
        "diary_entries": DiaryEntry.objects.filter(case=case).count(),
        "after_procedure": case.stage in {Stage.RECOVERY, Stage.DISCHARGED, Stage.FOLLOWUP_DONE, Stage.CLOSED},
        "to_decide": services.stops_to_decide(case) if may(request.user, "finding.override") else [],
        "outside_studies": list(imaging.outside_imaging(case)),
        "outside_documents": case.outside_documents.count(),
        "quarantined_discs": case.outside_imports.filter(status=ImportStatus.QUARANTINED).count(),
    }


@login_required
@require_POST
def case_link(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """Issue (or reissue) the patient's link and send it, or revoke it."""
    require(request, "patient_link.manage")
    case = _case_or_404(case_uuid)
    actor = actor_of(request)
    action = request.POST.get("action")
    if action == "issue":
        link = links.issue(actor, case, require_dob=request.POST.get("require_dob") == "on")
        row = reminders.send_new_link(case, link)
        messages.success(
            request,
            _("A new link was issued and queued to the patient.")
            if row
            else _("A new link was issued (sending is turned off for this site)."),
        )
    elif action == "resend":
        try:
            row = reminders.resend_link(actor, case)
        except KyphosError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The link is queued to the patient again.") if row else _("Sending is turned off for this site."),
            )
    elif action == "revoke":
        try:
            count = links.revoke(actor, case, request.POST.get("reason", "")[:200])
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, ngettext("{count} link revoked.", "{count} links revoked.", count).format(count=count)
            )
    else:
        raise Http404("No such action.")
    return redirect("case_detail", case_uuid=case.uuid)


@login_required
@require_GET
def case_detail(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    require(request, "case.view")
    case = _case_or_404(case_uuid)
    audit.record(
        actor_of(request),
        AuditAction.VIEW,
        "case",
        case.uuid,
        patient_uuid=case.patient.uuid,
        detail="case page",
    )
    context = _case_context(request, case)
    context["triage_form"] = forms.TriageForm(initial={"version": case.version}, case=case)
    context["action_form"] = forms.ActionForm(initial={"version": case.version})
    context["postpone_form"] = forms.PostponeForm(initial={"version": case.version})
    context["cancel_form"] = forms.CancelForm(initial={"version": case.version})
    context["proceed_form"] = forms.ProceedForm(initial={"version": case.version})
    if case.appointment is None and case.medications_note and case.stage in PLANNED_AT_BOOKING:
        # Before a date is chosen: the holds the referral's blood thinners will need (the booking dates them).
        now = clock.current()
        context |= {"early": selectors.early_plan(case, now, now + timedelta(hours=1)), "early_dated": False}
    return render(request, "kyphos/case_detail.html", context)


# Stages before a booking, when the referral's medicine list is all there is to plan from.
PLANNED_AT_BOOKING = {Stage.REFERRED, Stage.TRIAGED, Stage.POSTPONED}


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    require(request, "case.refer")
    form = forms.ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        site = form.cleaned_data["site"]
        try:
            case = services.refer_patient(
                actor_of(request),
                site=site,
                details=form.referral_details(),
                patient=form.patient,
                new_patient=None if form.patient else form.patient_details(site.code),
            )
        except ValidationError as exc:
            put_errors(form, exc, REFERRAL_ALIASES)
        else:
            messages.success(request, _("Referral saved and queued for triage."))
            return redirect("case_detail", case_uuid=case.uuid)
    return render(request, "kyphos/referral_form.html", {"form": form}, status=400 if form.errors else 200)


def _run_service(request: HttpRequest, case: Case, form: Any, call: Any) -> HttpResponse | None:
    """Call a service; on success redirect to the case; on a refusal put the reason on the form."""
    try:
        call()
    except (KyphosError, PermissionDenied, ValidationError) as exc:
        put_errors(form, exc, REFERRAL_ALIASES)
    else:
        return redirect("case_detail", case_uuid=case.uuid)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def case_book(request: HttpRequest, case_uuid: UUID, reschedule: bool = False) -> HttpResponse:
    require(request, "case.reschedule" if reschedule else "case.book")
    case = _case_or_404(case_uuid)
    initial: dict[str, Any] = {"version": case.version}
    if reschedule and case.appointment:
        local = when.local(case.appointment.start, case.site)
        initial |= {
            "room": case.appointment.room_id,
            "day": local.date(),
            "start_time": local.time(),
            "minutes": int(case.appointment.duration.total_seconds() // 60),
        }
    form = forms.BookingForm(request.POST or None, site=case.site, reschedule=reschedule, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if reschedule:

            def call() -> Any:
                return services.reschedule_case(
                    actor_of(request),
                    case,
                    version=d["version"],
                    room=d["room"],
                    start=d["start"],
                    minutes=d["minutes"],
                    reason=d["reason"],
                    override_reason=d["override_reason"],
                )
        else:

            def call() -> Any:
                return services.book_case(
                    actor_of(request),
                    case,
                    version=d["version"],
                    room=d["room"],
                    start=d["start"],
                    minutes=d["minutes"],
                    override_reason=d["override_reason"],
                )

        response = _run_service(request, case, form, call)
        if response is not None:
            _warn_if_too_late(request, case)
            messages.success(
                request, _("Rescheduled.") if reschedule else _("Booked. The pre-procedure call is queued.")
            )
            return response
    audit.record(
        actor_of(request),
        AuditAction.VIEW,
        "case",
        case.uuid,
        patient_uuid=case.patient.uuid,
        detail="booking form",
    )
    context = _case_context(request, case) | {"form": form, "reschedule": reschedule}
    context |= _booking_help_context(case, form)
    return render(request, "kyphos/booking_form.html", context, status=400 if form.errors else 200)


def _booking_help_context(case: Case, form: forms.BookingForm) -> dict[str, Any]:
    """What the scheduler sees beside the form for the room, day and time being chosen: the room's free times that
    day within the site's hours, the warnings booking would need a reason for, and the referral's blood thinners
    (none chosen yet: the holds only)."""
    values: dict[str, Any] = dict(form.initial)
    if form.is_bound:
        form.is_valid()
        values |= {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    site, now = case.site, clock.current()
    minutes = values.get("minutes") or site.default_procedure_minutes
    start = values.get("start")
    if start is None and values.get("day") and values.get("start_time"):
        start = datetime.combine(values["day"], values["start_time"], tzinfo=site.zone)
    room = values.get("room")
    if isinstance(room, int):
        room = site.rooms.filter(pk=room).first()
    day = values.get("day")
    when_start = start or now
    plan = selectors.early_plan(case, when_start, when_start + timedelta(minutes=minutes))
    warnings = []
    if start is not None and start > now:
        warnings = selectors.booking_warnings(case, start, start + timedelta(minutes=minutes), now)
    return {
        "early": plan,
        "early_dated": start is not None,
        "early_too_late": start is not None and plan.too_late(now),
        "help_room": room,
        "help_day": day,
        "free": scheduling_selectors.free_times(room, day, minutes) if room is not None and day else None,
        "warnings": warnings,
    }


def _warn_if_too_late(request: HttpRequest, case: Case) -> None:
    case.refresh_from_db()
    if case.appointment is None:
        return
    plan = selectors.early_plan(case, case.appointment.start, case.appointment.end)
    if plan.needed and plan.too_late(clock.current()):
        messages.warning(
            request,
            _(
                "Too little time for the blood-thinner plan: a medicine on the referral should already have "
                "stopped. The nurse's task is urgent; consider a later date."
            ),
        )


@login_required
@require_GET
def case_book_plan(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """Free times, warnings and the referral's blood thinners for what is being chosen (asked as the form changes)."""
    case = _case_or_404(case_uuid)
    require(request, "case.reschedule" if case.appointment else "case.book")
    form = forms.BookingForm(request.GET, site=case.site, reschedule=False)
    audit.record(
        actor_of(request), AuditAction.VIEW, "case", case.uuid, patient_uuid=case.patient.uuid, detail="early plan"
    )
    return render(request, "kyphos/_booking_help.html", {"case": case, **_booking_help_context(case, form)})


# The moves the case page runs itself, each through its owner in pathway.stages.MOVES. The other moves have
# their own pages (the booking, the call, admission, the procedure, recovery, the follow-up visit), which hold
# what the move needs.
CASE_PAGE_MOVES = {"triage", "decline", "postpone", "cancel", "close"}


@login_required
@require_POST
def case_action(request: HttpRequest, case_uuid: UUID, action: str) -> HttpResponse:
    """Run one stage move from the case page; on refusal show the case again with the reason."""
    move = MOVES.get(action)
    # These moves have their own pages (the call, admission, the procedure), which hold what the move needs.
    # "proceed" is no move: the radiologist's decision on a stop finding, carried to the moves that check it.
    if action != "proceed" and (move is None or action not in CASE_PAGE_MOVES):
        raise Http404("No such action.")
    require(request, move.permission if move is not None else "finding.override")
    case = _case_or_404(case_uuid)
    actor = actor_of(request)
    form: Any
    if action == "proceed":
        form = forms.ProceedForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            response = _run_service(
                request,
                case,
                form,
                lambda: services.proceed_despite_stops(actor, case, version=d["version"], reason=d["reason"]),
            )
            if response is not None:
                messages.success(request, _("Decision recorded: the case proceeds; the start will not ask again."))
                return response
    elif action in {"triage", "decline"}:
        form = forms.TriageForm(request.POST, case=case)
        if form.is_valid():
            d = form.cleaned_data
            if d["decision"] == "eligible" and action == "triage":

                def call() -> Any:
                    return services.triage_case(
                        actor,
                        case,
                        version=d["version"],
                        reason=d["reason"],
                        screen=form.screen(),
                        override_reason=d["override_reason"],
                    )
            else:

                def call() -> Any:
                    return services.decline_case(
                        actor, case, version=d["version"], reason=d["reason"], screen=form.screen()
                    )

            response = _run_service(request, case, form, call)
            if response is not None:
                messages.success(request, _("Triage decision recorded."))
                return response
    elif action in {"postpone", "cancel"}:
        form = forms.PostponeForm(request.POST) if action == "postpone" else forms.CancelForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            service = services.postpone_case if action == "postpone" else services.cancel_case
            response = _run_service(
                request,
                case,
                form,
                lambda: service(actor, case, version=d["version"], reason=d["reason"], note=d["note"]),
            )
            if response is not None:
                messages.success(request, format_lazy(_("{move}: done."), move=move.label if move else action))
                return response
    else:
        form = forms.ActionForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            response = _run_service(
                request,
                case,
                form,
                lambda: followup.close_case(actor, case, version=d["version"], note=d["note"]),
            )
            if response is not None:
                messages.success(request, format_lazy(_("{move}: done."), move=move.label if move else action))
                return response
    case = _case_or_404(case_uuid)
    audit.record(actor, AuditAction.VIEW, "case", case.uuid, patient_uuid=case.patient.uuid, detail="case page")
    context = _case_context(request, case)
    context |= {
        "triage_form": form
        if action in {"triage", "decline"}
        else forms.TriageForm(initial={"version": case.version}, case=case),
        "action_form": form if action == "close" else forms.ActionForm(initial={"version": case.version}),
        "postpone_form": form if action == "postpone" else forms.PostponeForm(initial={"version": case.version}),
        "cancel_form": form if action == "cancel" else forms.CancelForm(initial={"version": case.version}),
        "proceed_form": form if action == "proceed" else forms.ProceedForm(initial={"version": case.version}),
        "failed_action": action,
        "failed_form": form,
    }
    return render(request, "kyphos/case_detail.html", context, status=409 if form.non_field_errors() else 400)


@login_required
@require_POST
def task_claim(request: HttpRequest, task_uuid: UUID) -> HttpResponse:
    require(request, "worklist.view")
    task = Task.objects.select_related("case", "case__patient").filter(uuid=task_uuid).first()
    if task is None:
        raise Http404("No such task.")
    try:
        services.claim_task(actor_of(request), task)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The task is yours."))
    target = request.POST.get("next") or reverse("home")
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("home")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def task_release(request: HttpRequest, task_uuid: UUID) -> HttpResponse:
    require(request, "worklist.view")
    task = Task.objects.select_related("case", "case__patient").filter(uuid=task_uuid).first()
    if task is None:
        raise Http404("No such task.")
    try:
        services.release_task(actor_of(request), task)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Task released to the queue."))
    return redirect("home")


@login_required
@require_GET
def patient_detail(request: HttpRequest, patient_uuid: UUID) -> HttpResponse:
    require(request, "case.view")
    patient = Patient.objects.filter(uuid=patient_uuid).first()
    if patient is None:
        raise Http404("No such patient.")
    audit.record(
        actor_of(request),
        AuditAction.VIEW,
        "patient",
        patient.uuid,
        patient_uuid=patient.uuid,
        detail="patient page",
    )
    cases = list(patient.cases.select_related("site", "appointment").order_by("-referral_date"))
    return render(
        request,
        "kyphos/patient_detail.html",
        {
            "patient": patient,
            "cases": cases,
            "allergies": list(patient.allergies.filter(active=True)),
            "today": clock.current().date(),
        },
    )


def stage_label(stage: str) -> str:
    return str(Stage(stage).label)


# The day list spans the stages (admission to discharge), so it lives at the edge, which may read every room.
SESSION_DAY_SITE = "day_list_site"


def _day_list_site(request: HttpRequest, sites: list[Site]) -> Site:
    """The site asked for (and remembered), else the one remembered, else the site of the user's first case today
    (a task of theirs), else the site whose list starts first today, else one with patients still in recovery."""
    by_code = {s.code: s for s in sites}
    asked = request.GET.get("site", "")
    if asked in by_code:
        request.session[SESSION_DAY_SITE] = asked
        return by_code[asked]
    remembered = request.session.get(SESSION_DAY_SITE)
    if remembered in by_code:
        return by_code[remembered]
    now = clock.current()
    today = Appointment.objects.filter(
        site__in=sites, start__gte=now - timedelta(hours=18), start__lt=now + timedelta(hours=18), status__in=HOLDS_ROOM
    )
    mine = Task.objects.filter(assignee_id=request.user.pk, status="open", case__appointment__in=today).select_related(
        "case__appointment"
    )
    first = min(mine, key=lambda t: t.case.appointment.start if t.case.appointment else now, default=None)
    if first is not None:
        return next(s for s in sites if s.pk == first.case.site_id)
    staying = Case.objects.filter(stage=Stage.RECOVERY).values("uuid")
    earliest = (
        today.order_by("start").first()
        or Appointment.objects.filter(site__in=sites, case_uuid__in=staying).order_by("start").first()
    )
    return next((s for s in sites if earliest is not None and s.pk == earliest.site_id), sites[0])


DAY_STATE = {
    Stage.SCHEDULED: _("Not arrived"),
    Stage.PRECALL_DONE: _("Not arrived"),
    Stage.ADMITTED: _("Admitted"),
    Stage.CLEARED: _("Cleared"),
    Stage.IN_PROCEDURE: _("In procedure"),
    Stage.RECOVERY: _("Recovery"),
    Stage.DISCHARGED: _("Discharged"),
}


@login_required
@require_GET
def day_list(request: HttpRequest) -> HttpResponse:
    """Today's cases at a site, in arrival order, with their state and open findings."""
    require(request, "case.view")
    mine = site_ids_of(request.user)
    sites = list(Site.objects.filter(active=True) if mine is None else Site.objects.filter(active=True, id__in=mine))
    if not sites:
        raise Http404("No sites.")
    site = _day_list_site(request, sites)
    try:
        day = date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else None
    except ValueError:
        day = None
        messages.error(request, _("That is not a date (YYYY-MM-DD); showing today."))
    day = day or when.today(site)
    start = datetime.combine(day, datetime.min.time(), tzinfo=site.zone)
    # Still in recovery from an earlier day (the usual stay is about 24 h): on the list too, first.
    overnight = (
        Case.objects.filter(site=site, stage=Stage.RECOVERY, appointment__start__lt=start)
        .select_related("patient", "site", "appointment__room")
        .order_by("appointment__start")
    )
    appointments = (
        Appointment.objects.filter(
            site=site,
            start__gte=start,
            start__lt=start + timedelta(days=1),
            status__in=[*HOLDS_ROOM, AppointmentStatus.COMPLETED],
        )
        .select_related("room")
        .order_by("arrival_at", "start")
    )
    cases = {
        c.uuid: c
        for c in Case.objects.filter(uuid__in=[a.case_uuid for a in appointments]).select_related("patient", "site")
    }
    rows: list[dict[str, Any]] = [
        {"appointment": c.appointment, "case": c, "state": aftercare_selectors.recovery_state(c), "stops": c.open_stops}
        for c in overnight
        if day == when.today(site)
    ]
    for appointment in appointments:
        case = cases.get(appointment.case_uuid)
        if case is None:
            continue
        state = DAY_STATE.get(Stage(case.stage), case.get_stage_display())
        if case.stage == Stage.RECOVERY:
            state = aftercare_selectors.recovery_state(case)
        rows.append({"appointment": appointment, "case": case, "state": state, "stops": case.open_stops})
    audit.record_list(
        actor_of(request),
        "day_list",
        [(r["case"].uuid, r["case"].patient.uuid) for r in rows],
        detail=f"day list {site.code} {day}",
    )
    return render(
        request,
        "procedure/day_list.html",
        {
            "rows": rows,
            "site": site,
            "sites": sites,
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def messages_not_sent(request: HttpRequest) -> HttpResponse:
    """The messages that did not go out, with the reason; staff correct the address and send again."""
    require(request, "worklist.view")
    if request.method == "POST":
        require(request, "message.resend")
        row = (
            OutboxMessage.objects.select_related("case__patient").filter(pk=request.POST.get("row", "0")).first()
            if request.POST.get("row", "").isdigit()
            else None
        )
        if row is None:
            raise Http404("No such message.")
        try:
            outbox.retry(actor_of(request), row, request.POST.get("to"))
        except KyphosError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The message is queued to go out again."))
        return redirect("messages_not_sent")
    mine = site_ids_of(request.user)
    rows = list(
        (outbox.not_sent() if mine is None else outbox.not_sent().filter(case__site_id__in=mine)).order_by("-due_at")[
            :200
        ]
    )
    audit.record_list(actor_of(request), "outbox", [(r.pk, r.case.patient.uuid) for r in rows], detail="not sent")
    return render(request, "kyphos/messages_not_sent.html", {"rows": rows})
