"""The day list, admission with labs, and the procedure page (checklist, sedation, levels, cement, note)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from kyphos import clock, measures, when
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.formfields import REFUSALS, put_errors, refusal_text
from kyphos.labs import services as labs
from kyphos.pathway import selectors
from kyphos.pathway.models import Case
from kyphos.pathway.policy import may
from kyphos.pathway.stages import Stage
from kyphos.precall.models import CallStatus
from kyphos.procedure import forms, services
from kyphos.procedure import note as procedure_note
from kyphos.procedure.models import (
    Checklist,
    ChecklistPart,
    ProcedureNote,
    ProcedureRecord,
    TreatedLevel,
)
from kyphos.rules.cement import cement_times


def _case(case_uuid: UUID) -> Case:
    case = selectors.case_by_uuid(case_uuid)
    if case is None or case.appointment is None:
        raise Http404("No such booked case.")
    return case


def _need(request: HttpRequest, permission: str) -> None:
    if not may(request.user, permission):
        raise PermissionDenied(format_lazy(_("Your role does not allow this ({permission})."), permission=permission))


@login_required
@require_GET
def admission(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """The morning of the procedure: the admission assessment and the labs; each form posts to its own view."""
    _need(request, "case.view")
    return _admission_page(request, _case(case_uuid))


def _readiness(case: Case) -> list[dict[str, Any]]:
    """What must be true before the needle, each stop a radiologist already decided on shown with that decision."""
    decisions = {str(d["code"]): d for d in case.decided_stops}
    return [
        {"finding": f, "decision": decisions.get(f.code) if f.severity == "stop" else None}
        for f in services.readiness_findings(case)
    ]


def _admission_page(request: HttpRequest, case: Case, admission_form: Any = None, lab_form: Any = None) -> HttpResponse:
    actor = Actor.from_request(request)
    audit.record(actor, AuditAction.VIEW, "admission", case.uuid, patient_uuid=case.patient.uuid, detail="admission")
    call = case.precalls.filter(status=CallStatus.SIGNED).first()
    now_local = when.local(clock.current(), case.site).replace(tzinfo=None)
    context = {
        **selectors.banner(case),
        "admission_form": admission_form
        or forms.AdmissionForm(initial={"version": case.version}, unit=measures.unit_of(case.site)),
        "lab_form": lab_form or forms.LabForm(initial={"taken_at": now_local}),
        "admitted": getattr(case, "admission", None) if hasattr(case, "admission") else None,
        "labs": labs.results(case),
        "held": [m for m in call.medications.all() if m.hold] if call else [],
        "readiness": _readiness(case) if case.stage not in {Stage.SCHEDULED, Stage.PRECALL_DONE} else [],
    }
    failed = admission_form is not None or lab_form is not None
    return render(request, "procedure/admission.html", context, status=400 if failed else 200)


@login_required
@require_POST
def admit(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.admit")
    case = _case(case_uuid)
    form = forms.AdmissionForm(request.POST, unit=measures.unit_of(case.site))
    if form.is_valid():
        d = form.cleaned_data
        values = {k: v for k, v in d.items() if k not in {"version", "override_reason"}}
        for name in ("last_clear_liquid_at", "last_light_meal_at", "last_fatty_meal_at"):
            values[name] = forms.in_zone(values[name], case.site.zone)
        try:
            services.admit(
                Actor.from_request(request),
                case,
                version=d["version"],
                data_in=services.AdmissionInput(**values),
                override_reason=d["override_reason"],
            )
        except REFUSALS as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Admitted. Enter the labs below."))
            return redirect("procedure:admission", case_uuid=case.uuid)
    return _admission_page(request, _case(case_uuid), admission_form=form)


@login_required
@require_POST
def record_lab(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case, form = _case(case_uuid), forms.LabForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        positive = {"pos": True, "neg": False}.get(d.get("positive") or "")
        taken_at = forms.in_zone(d["taken_at"], case.site.zone)
        assert taken_at is not None  # a required field
        try:
            labs.record_lab(
                Actor.from_request(request),
                case,
                d["code"],
                value=d.get("value") or None,
                positive=positive,
                taken_at=taken_at,
            )
        except REFUSALS as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Lab result recorded."))
            return redirect("procedure:admission", case_uuid=case.uuid)
    return _admission_page(request, _case(case_uuid), lab_form=form)


@login_required
@require_GET
def procedure_page(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """The procedure record: checklist, sedation, start, levels, end and the note. Each form posts to its own view."""
    _need(request, "case.view")
    return _procedure_page(request, _case(case_uuid))


def _procedure_page(request: HttpRequest, case: Case, bound: dict[str, Any] | None = None) -> HttpResponse:
    """Draw the page; ``bound`` holds the one form a refused post puts back with its errors (status 400)."""
    bound = bound or {}
    actor = Actor.from_request(request)
    now_local = when.local(clock.current(), case.site).replace(tzinfo=None)
    audit.record(
        actor,
        AuditAction.VIEW,
        "procedure",
        case.uuid,
        patient_uuid=case.patient.uuid,
        detail="procedure page",
    )
    record = ProcedureRecord.objects.filter(case=case).first()
    signed = {c.part: c for c in Checklist.objects.filter(case=case).select_related("signed_by")}
    checklists = []
    for part, label in ChecklistPart.choices:
        checklists.append(
            {
                "part": part,
                "label": label,
                "signed": signed.get(part),
                "form": bound.get(f"checklist_{part}") or forms.ChecklistForm(part),
            }
        )
    levels = []
    for lv in record.levels.all() if record else []:
        times = cement_times(lv.cement_product, lv.cement_mixed_at)
        levels.append({"level": lv, "workable_until": times.workable_until, "set_at": times.set_at})
    note = ProcedureNote.objects.filter(case=case).first()
    note_form = bound.get("note")
    if note_form is None and note is None and record is not None and record.ended_at is not None:
        note_form = forms.NoteForm(initial=procedure_note.current_sections(case, record))
    draft = getattr(case, "note_draft", None) if note is None else None
    context = {
        **selectors.banner(case),
        "readiness": _readiness(case) if case.stage in {Stage.ADMITTED, Stage.CLEARED} else [],
        "checklists": checklists,
        "record": record,
        "levels": levels,
        "note": note,
        "note_sections": [
            {"heading": dict(procedure_note.SECTIONS).get(part["key"], ""), "text": part["text"]}
            for part in (note.sections if note else [])
        ],
        "note_form": note_form,
        "draft": draft,
        "sedation": getattr(case, "sedation", None) if hasattr(case, "sedation") else None,
        "sedation_form": bound.get("sedation") or forms.SedationForm(initial=_sedation_initial(case, now_local)),
        "start_form": bound.get("start") or forms.StartForm(initial={"version": case.version}),
        "level_form": bound.get("level")
        or forms.LevelForm(
            initial={"cement_mixed_at": now_local, "cement_product": "kyphon-hv-r", "level": _next_level(case, record)}
        ),
        "end_form": bound.get("end") or forms.EndForm(initial={"version": case.version, "ended_at": now_local}),
        "addendum_form": bound.get("addendum") or forms.AddendumForm(),
        "planned": ", ".join(case.levels.values_list("level", flat=True)),
        "now": clock.current(),
    }
    return render(request, "procedure/procedure.html", context, status=400 if bound else 200)


def _sedation_initial(case: Case, now_local: Any) -> dict[str, Any]:
    """The sedation form opens with what was recorded (times on the site's clock); a first record with now."""
    sedation = getattr(case, "sedation", None)
    if sedation is None:
        return {"started_at": now_local}
    initial = {name: getattr(sedation, name) for name in forms.SedationForm.base_fields}
    for name in ("started_at", "ended_at"):
        moment = getattr(sedation, name)
        initial[name] = when.local(moment, case.site).replace(tzinfo=None) if moment else None
    return initial


def _next_level(case: Case, record: ProcedureRecord | None) -> str:
    """The first planned level not yet treated (the level form opens on it)."""
    done = set(record.levels.values_list("level", flat=True)) if record else set()
    return next(
        (name for name in case.levels.order_by("position").values_list("level", flat=True) if name not in done), ""
    )


def _submit(
    request: HttpRequest, case: Case, key: str, form: Any, run: Callable[[dict[str, Any]], object]
) -> HttpResponse:
    """Run ``run(cleaned_data)`` for a valid form and go back to the page; otherwise draw it with the errors."""
    if form.is_valid():
        try:
            run(dict(form.cleaned_data))
        except REFUSALS as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("procedure:page", case_uuid=case.uuid)
    return _procedure_page(request, _case(case.uuid), {key: form})


def _run(request: HttpRequest, case: Case, run: Callable[[], object]) -> HttpResponse:
    """An action without a form (a button): its refusal goes at the top of the page."""
    try:
        run()
    except REFUSALS as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("procedure:page", case_uuid=case.uuid)


@login_required
@require_POST
def sign_checklist(request: HttpRequest, case_uuid: UUID, part: str) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)
    if part not in ChecklistPart.values:
        raise Http404("No such checklist part.")
    form = forms.ChecklistForm(part, request.POST)
    return _submit(
        request,
        case,
        f"checklist_{part}",
        form,
        lambda d: services.sign_checklist(actor, case, part, form.ticked(), d["note"]),
    )


@login_required
@require_POST
def record_sedation(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)

    def run(d: dict[str, Any]) -> object:
        zone = case.site.zone
        d["started_at"], d["ended_at"] = (
            forms.in_zone(d["started_at"], zone),
            forms.in_zone(d["ended_at"], zone),
        )
        return services.record_sedation(actor, case, services.SedationInput(**d))

    return _submit(request, case, "sedation", forms.SedationForm(request.POST), run)


@login_required
@require_POST
def start_procedure(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)
    return _submit(
        request,
        case,
        "start",
        forms.StartForm(request.POST),
        lambda d: services.start_procedure(
            actor, case, version=d["version"], operators=d["operators"], override_reason=d["override_reason"]
        ),
    )


@login_required
@require_POST
def record_level(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)

    def run(d: dict[str, Any]) -> object:
        d["cement_mixed_at"] = forms.in_zone(d["cement_mixed_at"], case.site.zone)
        return services.record_level(actor, case, services.LevelInput(**d))

    return _submit(request, case, "level", forms.LevelForm(request.POST), run)


@login_required
@require_POST
def cement_set(request: HttpRequest, case_uuid: UUID, level_id: int) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)
    treated = TreatedLevel.objects.filter(pk=level_id, record__case=case).first()
    if treated is None:
        raise Http404("No such level.")
    response = _run(request, case, lambda: services.declare_cement_set(actor, treated))
    treated.refresh_from_db()
    warning = services.cement_set_warning(treated)
    if warning:
        messages.warning(request, warning)
    return response


@login_required
@require_POST
def end_procedure(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)

    def run(d: dict[str, Any]) -> object:
        version = d.pop("version")
        d["ended_at"] = forms.in_zone(d["ended_at"], case.site.zone)
        return services.end_procedure(actor, case, version=version, data_in=services.EndInput(**d))

    return _submit(request, case, "end", forms.EndForm(request.POST), run)


@login_required
@require_POST
def sign_note(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """The note's form: "Save draft" keeps the edits, "Sign the note" signs them for good."""
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)
    signing = request.POST.get("action") != "draft"
    form = forms.NoteForm(request.POST, signing=signing)

    def run(d: dict[str, Any]) -> object:
        if signing:
            return procedure_note.sign(actor, case, d)
        return procedure_note.save_draft(actor, case, d)

    return _submit(request, case, "note", form, run)


@login_required
@require_POST
def add_addendum(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case, actor = _case(case_uuid), Actor.from_request(request)
    note = ProcedureNote.objects.filter(case=case).first()
    if note is None:
        raise Http404("No signed note.")
    return _submit(
        request,
        case,
        "addendum",
        forms.AddendumForm(request.POST),
        lambda d: services.add_addendum(actor, note, d["text"]),
    )


@login_required
@require_GET
def note_pdf(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _need(request, "case.view")
    case = _case(case_uuid)
    note = ProcedureNote.objects.filter(case=case).first()
    if note is None:
        raise Http404("No signed note yet.")
    audit.record(
        Actor.from_request(request),
        AuditAction.VIEW,
        "procedure_note",
        note.pk,
        patient_uuid=case.patient.uuid,
    )
    return HttpResponse(bytes(note.pdf), content_type="application/pdf")
