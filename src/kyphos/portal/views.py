"""The patient's own pages at ``/p/<token>/``: no password, one case, nothing of anyone else's.

Every view goes through ``_open``: the token is checked (signature, then the link's row: revoked, expired), the
date of birth is asked first when the link requires it, and the read is audited with the link as the actor.
Answers never come from another case: every lookup below starts from the case the link names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from kyphos import clock, measures, when
from kyphos.aftercare import diary, questionnaires
from kyphos.aftercare.models import DiaryEntry, Questionnaire, QuestionnaireResponse, ResponseContext
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.messaging import calendar, links
from kyphos.messaging.letters import current_letter, letter_response
from kyphos.messaging.models import Letter
from kyphos.pathway.stages import BOOKED_STAGES, Stage
from kyphos.portal.text import PATIENT_LANGUAGES, WORDS
from kyphos.precall import services as precall
from kyphos.precall.models import PatientChecklist
from kyphos.scheduling.models import Visit
from kyphos.translation import stored_language
from kyphos.when import day_words, time_words

AFTER = {Stage.RECOVERY, Stage.DISCHARGED, Stage.FOLLOWUP_DONE, Stage.CLOSED}
SESSION_DOB = "kyphos_link_ok"
SESSION_LANG = "kyphos_patient_lang"


def _language(request: HttpRequest, case: Any) -> str:
    chosen = request.session.get(SESSION_LANG)
    if chosen in PATIENT_LANGUAGES:
        return str(chosen)
    return case.patient.preferred_language if case.patient.preferred_language in PATIENT_LANGUAGES else "en"


def _no_store(response: HttpResponse) -> HttpResponse:
    # The token is in the address: keep it out of search engines. Caches and other sites' logs are kept out for
    # every page already (web.middleware.NoStoreMiddleware; SECURE_REFERRER_POLICY "same-origin", not
    # "no-referrer": a browser then sends "Origin: null" with a form, and the CSRF check rightly refuses it).
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _invalid(request: HttpRequest, error: links.LinkError) -> HttpResponse:
    """Why the link does not work and, when it was a real link, whom to call (the site's name and number)."""
    chosen = request.session.get(SESSION_LANG)
    lang = chosen if chosen in PATIENT_LANGUAGES else "en"
    site = error.site
    with translation.override(lang):
        call = str(WORDS["invalid_call"]).format(site=site.name, phone=site.phone) if site and site.phone else ""
        context = {"t": WORDS, "lang": lang, "message": error.args[0], "call": call, "site": site}
        response = render(request, "patient/invalid.html", context, status=404)
    return _no_store(response)


def patient_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            opened = links.open_token(token)
        except links.LinkError as exc:
            return _invalid(request, exc)
        link, case = opened.link, opened.case
        actor = Actor(
            user=None,
            client_addr=getattr(request, "client_addr", None),
            system_name=f"patient link {link.pk}",
        )
        lang = _language(request, case)
        ctx = {
            "t": WORDS,
            "lang": lang,
            "case": case,
            "site": case.site,
            "token": token,
            "base": f"/p/{token}/",
            "actor": actor,
            "link": link,
        }
        if link.require_dob and link.pk not in request.session.get(SESSION_DOB, []):
            with translation.override(lang):
                return _no_store(_dob(request, ctx))
        links.touch(link)
        audit.record(
            actor,
            AuditAction.VIEW,
            "patient_page",
            case.uuid,
            patient_uuid=case.patient.uuid,
            detail=view.__name__,
        )
        # The page is drawn in the patient's language: every lazy word and service message is translated then.
        with translation.override(lang):
            return _no_store(view(request, ctx, *args, **kwargs))

    return wrapper


def _dob(request: HttpRequest, ctx: dict[str, Any]) -> HttpResponse:
    error = ""
    if request.method == "POST":
        answer = _typed_date(request.POST)
        if answer is None:
            return _dob_page(request, ctx, ctx["t"]["dob_incomplete"])
        try:
            ok = links.check_dob(ctx["link"], answer, getattr(request, "client_addr", None))
        except links.LinkError as exc:
            return _invalid(request, exc)
        if ok:
            request.session[SESSION_DOB] = [*request.session.get(SESSION_DOB, []), ctx["link"].pk]
            wanted = request.POST.get("next", "")
            # Only a page of this same link: never an address given from outside.
            return redirect(wanted if wanted.startswith(ctx["base"]) and "//" not in wanted else ctx["base"])
        error = ctx["t"]["dob_wrong"]
    return _dob_page(request, ctx, error)


def _typed_date(form: Any) -> date | None:
    """The day, month and year boxes as one date (the way the patient says it, without a format to learn)."""
    try:
        parts = [int(form.get(f"dob_{part}", "").strip()) for part in ("year", "month", "day")]
        return date(*parts) if parts[0] >= 1000 else None
    except ValueError:
        return None


def _dob_page(request: HttpRequest, ctx: dict[str, Any], error: str) -> HttpResponse:
    typed = {part: request.POST.get(f"dob_{part}", "")[:4] for part in ("day", "month", "year")}
    return render(
        request,
        "patient/dob.html",
        {**ctx, "error": error, "typed": typed, "next": request.POST.get("next") or request.path},
        status=200 if not error else 400,
    )


def _appointment(ctx: dict[str, Any]) -> dict[str, Any] | None:
    case, lang = ctx["case"], ctx["lang"]
    appt = case.appointment
    if appt is None or case.stage not in BOOKED_STAGES:
        return None
    zone = case.site.zone
    start, arrival = when.local(appt.start, zone), when.local(appt.arrival_at, zone)
    return {
        "date": day_words(start.date(), lang),
        "time": time_words(start, case.site, lang),
        "arrival": time_words(arrival, case.site, lang),
    }


def _visit(case: Any) -> Visit | None:
    return Visit.objects.filter(case_uuid=case.uuid, status=Visit.Status.BOOKED, start__gt=clock.current()).first()


def _checklist(case: Any) -> PatientChecklist:
    return PatientChecklist.objects.filter(case=case).first() or PatientChecklist(case=case, updated_at=clock.current())


@require_http_methods(["GET", "POST"])
@patient_page
def home(request: HttpRequest, ctx: dict[str, Any]) -> HttpResponse:
    case, lang = ctx["case"], ctx["lang"]
    visit = _visit(case)
    visit_words = None
    if visit is not None:
        local = when.local(visit.start, case.site)
        visit_words = {"date": day_words(local.date(), lang), "time": time_words(local, case.site, lang)}
    ticked = _checklist(case).ticked()
    return render(
        request,
        "patient/home.html",
        {
            **ctx,
            "appointment": _appointment(ctx),
            "after": case.stage in AFTER,
            "visit": visit_words,
            "hello": ctx["t"]["hello"].format(name=case.patient.given_name),
            "checklist_done": ctx["t"]["checklist_done"].format(n=sum(ticked.values()), total=len(ticked)),
            "letter": current_letter(case, Letter.Kind.DISCHARGE if case.stage in AFTER else Letter.Kind.PRE_PROCEDURE),
            "diary_closed": diary.closed_message(case),
            "entries": [{"day": day_words(e.day, lang), "entry": e} for e in diary.entries(case)[-7:]],
            "questions": case.stage == Stage.DISCHARGED and visit is not None,
        },
    )


@require_http_methods(["GET"])
def language(request: HttpRequest, token: str, lang: str) -> HttpResponse:
    if lang not in PATIENT_LANGUAGES:
        raise Http404("Unknown language.")
    request.session[SESSION_LANG] = lang
    return redirect(f"/p/{token}/")


@require_http_methods(["GET", "POST"])
@patient_page
def checklist(request: HttpRequest, ctx: dict[str, Any]) -> HttpResponse:
    case = ctx["case"]
    current = _checklist(case)
    saved = False
    if request.method == "POST":
        try:
            with stored_language():
                current = precall.tick_patient_checklist(
                    ctx["actor"], case, {key for key in PatientChecklist.ITEMS if request.POST.get(key) == "on"}
                )
        except ValidationError as exc:
            return render(
                request,
                "patient/message.html",
                {**ctx, "message": " ".join(str(m) for m in exc.messages)},
                status=409,
            )
        saved = True
    items = [(key, ctx["t"][f"ck_{key}"], value) for key, value in current.ticked().items()]
    return render(
        request,
        "patient/checklist.html",
        {**ctx, "items": items, "saved": saved, "editable": case.stage in BOOKED_STAGES},
    )


@require_http_methods(["GET"])
@patient_page
def letter(request: HttpRequest, ctx: dict[str, Any], fmt: str = "html") -> HttpResponse:
    case = ctx["case"]
    kind = Letter.Kind.DISCHARGE if case.stage in AFTER else Letter.Kind.PRE_PROCEDURE
    issued = current_letter(case, kind)
    if issued is None:
        return render(request, "patient/message.html", {**ctx, "message": ctx["t"]["letter_none"]}, status=404)
    return letter_response(issued, fmt, filename="kyphos-instructions.pdf")


@require_http_methods(["GET"])
@patient_page
def ics(request: HttpRequest, ctx: dict[str, Any], what: str) -> HttpResponse:
    case, lang = ctx["case"], ctx["lang"]
    if what == "appointment":
        appt = case.appointment
        if appt is None or case.stage not in BOOKED_STAGES:
            raise Http404("No appointment.")
        body = calendar.invitation(
            uid=str(appt.uuid),
            kind="procedure",
            start=appt.start,
            end=appt.end,
            site=case.site,
            arrival=appt.arrival_at,
            language=lang,
        )
    else:
        visit = _visit(case)
        if visit is None:
            raise Http404("No visit.")
        body = calendar.invitation(
            uid=str(visit.uuid),
            kind="visit",
            start=visit.start,
            end=visit.end,
            site=case.site,
            arrival=None,
            language=lang,
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kyphos-{what}.ics"'
    return response


def _error_lines(errors: dict[str, Any], labels: dict[str, str]) -> list[dict[str, str]]:
    """The error summary: one line per question with a problem, in the page's order, naming the question (six
    unanswered yes/no questions are six different lines), each linking to its field."""
    keys = [key for key in labels if key in errors] + [key for key in errors if key not in labels]
    return [
        {"key": key, "text": f"{labels[key]} — {errors[key][0]}" if key in labels else str(errors[key][0])}
        for key in keys
    ]


def _questions(instrument: Any, lang: str, values: dict[str, Any], errors: dict[str, Any]) -> list[dict[str, Any]]:
    return questionnaires.question_rows(instrument, lang, values, errors)


@require_http_methods(["GET", "POST"])
@patient_page
def diary_entry(request: HttpRequest, ctx: dict[str, Any]) -> HttpResponse:
    case, lang = ctx["case"], ctx["lang"]
    refusal = diary.closed_message(case)
    instrument = questionnaires.instrument(questionnaires.recovery())
    site_flags = case.site.redflags()
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        answers = {item.link_id: request.POST.get(item.link_id, "") for item in instrument.items}
        flags = {key: request.POST.get(f"flag_{key}", "") for key in site_flags.flags}
        values = {
            **answers,
            **{f"flag_{k}": v for k, v in flags.items()},
            "temperature": request.POST.get("temperature", ""),
            "note": request.POST.get("note", ""),
            "admitted": request.POST.get("admitted", ""),
        }
        try:
            with stored_language():
                entry = diary.record_entry(
                    ctx["actor"],
                    case,
                    diary.DiaryInput(
                        answers=answers,
                        flags=flags,
                        temperature=values["temperature"],
                        note=values["note"],
                        admitted=values["admitted"],
                    ),
                )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return render(
                    request,
                    "patient/message.html",
                    {**ctx, "message": " ".join(str(m) for m in exc.messages)},
                    status=409,
                )
            errors = {key: [str(m) for m in found] for key, found in exc.message_dict.items()}
        else:
            return redirect(f"{ctx['base']}diary/{entry.uuid}/")
    if refusal:
        return render(request, "patient/message.html", {**ctx, "message": str(refusal)}, status=409)
    flag_rows = [
        {
            "id": f"flag_{key}",
            "label": flag.question.get(lang) or flag.question["en"],
            "value": values.get(f"flag_{key}", ""),
            "error": (errors.get(f"flag_{key}") or [""])[0],
        }
        for key, flag in site_flags.flags.items()
    ]
    questions = _questions(instrument, lang, values, errors)
    unit = measures.unit_of(case.site)
    temperature_label = ctx["t"]["temperature"].format(
        unit=measures.SYMBOL[unit], example=measures.from_celsius(Decimal("37.2"), unit)
    )
    labels = {
        **{row["id"]: row["label"] for row in questions},
        **{row["id"]: row["label"] for row in flag_rows},
        "temperature": temperature_label,
        "note": ctx["t"]["note"],
        "admitted": ctx["t"]["admitted"],
    }
    return render(
        request,
        "patient/diary.html",
        {
            **ctx,
            "questions": questions,
            "flags": flag_rows,
            "values": values,
            "errors": _error_lines(errors, labels),
            "temperature_label": temperature_label,
            "temperature_error": (errors.get("temperature") or [""])[0],
            "note_error": (errors.get("note") or [""])[0],
            "admitted_error": (errors.get("admitted") or [""])[0],
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET"])
@patient_page
def diary_result(request: HttpRequest, ctx: dict[str, Any], entry_uuid: Any) -> HttpResponse:
    # Only an entry of this link's own case: another case's entry is "not found", never shown.
    entry = DiaryEntry.objects.filter(case=ctx["case"], uuid=entry_uuid).first()
    if entry is None:
        raise Http404("No such entry.")
    number = str(ctx["site"].redflags().emergency_phone.value)
    t, phone = ctx["t"], ctx["site"].phone
    return render(
        request,
        "patient/diary_result.html",
        {
            **ctx,
            "entry": entry,
            "number": number,
            "emergency_h": t["emergency_h"].format(number=number),
            "emergency_body": t["emergency_body"].format(number=number),
            "emergency_call": t["emergency_call"].format(number=number),
            "emergency_after": t["emergency_after"].format(phone=phone),
            "same_day_body": t["same_day_body"].format(phone=phone),
            "review_body": t["review_body"].format(phone=phone),
        },
    )


@require_http_methods(["GET", "POST"])
@patient_page
def questions(request: HttpRequest, ctx: dict[str, Any], questionnaire_id: int | None = None) -> HttpResponse:
    """Questionnaires to answer: before the procedure (baseline) or before the follow-up visit."""
    case, lang = ctx["case"], ctx["lang"]
    if case.stage in BOOKED_STAGES:
        context = ResponseContext.BASELINE
    elif case.stage == Stage.DISCHARGED:
        context = ResponseContext.PREVISIT
    else:
        return render(request, "patient/message.html", {**ctx, "message": ctx["t"]["diary_closed"]}, status=409)
    available = questionnaires.available()
    answered = set(
        QuestionnaireResponse.objects.filter(case=case, context=context).values_list("questionnaire_id", flat=True)
    )
    if questionnaire_id is None:
        todo = [(q.pk, questionnaires.instrument(q).title_in(lang)) for q in available if q.pk not in answered]
        heading = ctx["t"]["baseline_h" if context == ResponseContext.BASELINE else "questions_h"]
        return render(
            request,
            "patient/questions_list.html",
            {**ctx, "todo": todo, "done": not todo, "heading": heading},
        )
    chosen: Questionnaire | None = next((q for q in available if q.pk == questionnaire_id), None)
    if chosen is None:
        raise Http404("No such questionnaire.")
    instrument = questionnaires.instrument(chosen)
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        values = {item.link_id: request.POST.get(item.link_id, "") for item in instrument.items}
        try:
            with stored_language():
                questionnaires.record(ctx["actor"], case, chosen, context, values, author="patient")
        except ValidationError as exc:
            errors = {key: [str(m) for m in found] for key, found in exc.message_dict.items()}
        else:
            return redirect(f"{ctx['base']}questions/")
    questions = _questions(instrument, lang, values, errors)
    return render(
        request,
        "patient/questions.html",
        {
            **ctx,
            "questionnaire": chosen,
            "title": instrument.title_in(lang),
            "questions": questions,
            "errors": _error_lines(errors, {row["id"]: row["label"] for row in questions}),
        },
        status=400 if errors else 200,
    )
