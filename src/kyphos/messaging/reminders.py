"""Derive the patients' due messages from the database and queue them in the outbox (run by each worker tick).

Each purpose of rules/data/messages.toml (with the site's changes) has an anchor; this module finds the anchors
near now, works out each message's due time and queues it under its unique key, so running it again, or in two
workers at once, queues nothing twice. A message is only queued while it can still help: a reminder whose
appointment has started, or a diary prompt more than a day late, is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import Refused
from kyphos.messaging import calendar, links
from kyphos.messaging.models import OutboxMessage
from kyphos.messaging.outbox import enqueue, message_key
from kyphos.pathway.models import Case, Task, TaskKind, TaskStatus
from kyphos.pathway.stages import BOOKED_STAGES, Stage
from kyphos.rules import messages as message_rules
from kyphos.scheduling.models import Appointment, Site, Visit
from kyphos.when import day_words, time_words

LOOKAHEAD = timedelta(days=61)  # the longest offset a site may set is 60 days
STALE = timedelta(days=1)  # a prompt more than a day late is not sent
WORKER = Actor.system("worker")


@dataclass(frozen=True)
class Due:
    case: Case
    purpose: message_rules.Purpose
    occurrence: str
    due_at: datetime
    start: datetime | None  # the appointment or visit the message is about
    end: datetime | None
    arrival: datetime | None
    day: int | None = None
    calendar_kind: str = ""


def channel_and_address(patient: Any) -> tuple[str, str]:
    """E-mail if the patient prefers it; otherwise a text to the mobile; otherwise e-mail; otherwise a text with
    no number, which fails visibly in "messages that did not go out" so that staff can act."""
    if patient.preferred_channel == "email" and patient.email:
        return OutboxMessage.Channel.EMAIL, patient.email
    if patient.phone_mobile:
        return OutboxMessage.Channel.SMS, patient.phone_mobile
    if patient.email:
        return OutboxMessage.Channel.EMAIL, patient.email
    return OutboxMessage.Channel.SMS, ""


def _appointments(now: datetime, only: Case | None = None) -> Iterator[tuple[Case, Appointment]]:
    cases = Case.objects.filter(
        stage__in=BOOKED_STAGES, appointment__start__gt=now, appointment__start__lte=now + LOOKAHEAD
    ).select_related("patient", "site", "appointment")
    if only is not None:
        cases = cases.filter(pk=only.pk)
    for case in cases:
        assert case.appointment is not None
        yield case, case.appointment


def _candidates(
    site_purposes: dict[int, dict[str, message_rules.Purpose]], now: datetime, only: Case | None = None
) -> Iterator[Due]:
    """Every message the database calls for around now (``only``: for one case)."""
    for case, appt in _appointments(now, only):
        purposes = site_purposes[case.site_id]
        # Once the call is done, the reminder no longer says a nurse will call.
        reminder = "appointment_reminder" if case.stage == Stage.SCHEDULED else "appointment_reminder_after_call"
        for name, anchor in (("booking_confirmation", appt.created_at), (reminder, appt.start)):
            purpose = purposes[name]
            due = purpose.due_at(anchor, case.site.zone)
            yield Due(
                case,
                purpose,
                str(appt.uuid),
                max(due, appt.created_at),
                appt.start,
                appt.end,
                appt.arrival_at,
                calendar_kind="procedure" if purpose.calendar else "",
            )
    one_case = {"case": only} if only is not None else {}
    escalations = Task.objects.filter(
        kind=TaskKind.CALL_ESCALATION,
        status=TaskStatus.OPEN,
        case__stage__in=BOOKED_STAGES,
        case__appointment__start__gt=now,
        **one_case,
    ).select_related("case__patient", "case__site", "case__appointment")
    for task in escalations:
        case = task.case
        purpose = site_purposes[case.site_id]["not_reached"]
        booking = case.appointment
        yield Due(
            case,
            purpose,
            str(task.uuid),
            purpose.due_at(task.created_at, case.site.zone),
            booking.start if booking else None,
            booking.end if booking else None,
            booking.arrival_at if booking else None,
        )
    early = Task.objects.filter(
        kind=TaskKind.BLOOD_THINNER_PLAN,
        status=TaskStatus.OPEN,
        case__stage__in=BOOKED_STAGES,
        case__appointment__start__gt=now,
        **one_case,
    ).select_related("case__patient", "case__site")
    for task in early:
        case = task.case
        purpose = site_purposes[case.site_id]["early_medicines"]
        # {date} is the day the nurse calls by (the task's due end), not the procedure's.
        yield Due(
            case,
            purpose,
            str(task.uuid),
            purpose.due_at(task.created_at, case.site.zone),
            task.due_end,
            None,
            None,
        )
    recent = Case.objects.filter(
        stage__in=[Stage.RECOVERY, Stage.DISCHARGED],
        appointment__start__gte=now - LOOKAHEAD,
        appointment__start__lte=now,
    ).select_related("patient", "site", "appointment")
    if only is not None:
        recent = recent.filter(pk=only.pk)
    for case in recent:
        purpose = site_purposes[case.site_id]["diary_prompt"]
        assert case.appointment is not None
        for day in purpose.days:
            yield Due(
                case,
                purpose,
                f"d{day}",
                purpose.due_at(case.appointment.start, case.site.zone, day),
                None,
                None,
                None,
                day=day,
            )
    visits = Visit.objects.filter(status=Visit.Status.BOOKED, start__gt=now, start__lte=now + LOOKAHEAD)
    if only is not None:
        visits = visits.filter(case_uuid=only.uuid)
    by_uuid = {
        c.uuid: c
        for c in Case.objects.filter(uuid__in=[v.case_uuid for v in visits], stage=Stage.DISCHARGED).select_related(
            "patient", "site"
        )
    }
    for visit in visits:
        visit_case = by_uuid.get(visit.case_uuid)
        if visit_case is None:
            continue
        for name in ("diary_prompt_before_visit", "follow_up_reminder", "previsit_questionnaire"):
            purpose = site_purposes[visit_case.site_id][name]
            yield Due(
                visit_case,
                purpose,
                str(visit.uuid),
                purpose.due_at(visit.start, visit_case.site.zone),
                visit.start,
                visit.end,
                None,
                calendar_kind="visit" if purpose.calendar else "",
            )


def _still_useful(item: Due, now: datetime) -> bool:
    if item.due_at > now:
        return False
    if item.start is not None:
        return now < item.start
    return now < item.due_at + STALE


def _render(item: Due, channel: str, link_url: str) -> tuple[str, str, str]:
    case, site = item.case, item.case.site
    language = case.patient.preferred_language
    zone = site.zone
    values = {
        "site": site.name,
        "phone": site.phone,
        "link": link_url,
        "day": item.day or "",
        "date": day_words(when.local_day(item.start, zone), language) if item.start else "",
        "time": time_words(item.start, site, language) if item.start else "",
        "arrival": time_words(item.arrival, site, language) if item.arrival else "",
    }
    subject, body = item.purpose.render(language, values)
    ics = ""
    if item.calendar_kind and channel == OutboxMessage.Channel.EMAIL and item.start and item.end:
        ics = calendar.invitation(
            uid=item.occurrence,
            kind=item.calendar_kind,
            start=item.start,
            end=item.end,
            site=site,
            arrival=item.arrival,
            language=language,
        )
    return subject, body, ics


def derive(now: datetime | None = None) -> int:
    """Queue every message that is due now and not yet queued; return how many were queued."""
    now = now or clock.current()
    site_purposes = {site.pk: message_rules.purposes(site.message_settings) for site in Site.objects.all()}
    queued = 0
    pending = [item for item in _candidates(site_purposes, now) if item.purpose.enabled and _still_useful(item, now)]
    existing = _existing_keys(pending)
    for item in pending:
        channel, address = channel_and_address(item.case.patient)
        if message_key(item.case, item.purpose.name, channel, item.occurrence) in existing:
            continue
        url = ""
        if "{link}" in item.purpose.text.get(item.case.patient.preferred_language, item.purpose.text["en"]):
            url = settings.KYPHOS_BASE_URL + links.path_for(links.ensure(WORKER, item.case))
        subject, body, ics = _render(item, channel, url)
        with transaction.atomic():  # each message and its audit row together
            row, created = enqueue(
                item.case,
                item.purpose.name,
                channel,
                to=address,
                body=body,
                subject=subject,
                due_at=now,
                language=item.case.patient.preferred_language,
                occurrence=item.occurrence,
                calendar=ics,
            )
            if created:
                # The worker read the patient's contact details and wrote them into a message: audited too.
                audit.record(
                    WORKER,
                    AuditAction.CREATE,
                    "outbox_message",
                    row.pk,
                    patient_uuid=item.case.patient.uuid,
                    detail=item.purpose.name,
                )
        queued += int(created)
    return queued


def current_message(row: OutboxMessage, now: datetime | None = None) -> OutboxMessage | None:
    """A queued message checked against the case as it is now, just before it goes (the worker's check): rewritten
    when its words have changed, withdrawn (None, and the row cancelled) when it no longer applies — the booking
    moved, the call is done, the purpose was turned off — or would arrive after the moment it speaks about."""
    now = now or clock.current()
    case = row.case
    purposes = message_rules.purposes(case.site.message_settings)
    purpose = purposes.get(row.purpose)
    if purpose is not None and purpose.anchor == "manual":
        return row  # a message staff sent by hand (a new link) stands as written
    matches = [
        item
        for item in _candidates({case.site_id: purposes}, now, only=case)
        if item.purpose.name == row.purpose
        and message_key(item.case, item.purpose.name, row.channel, item.occurrence) == row.key
    ]
    item = matches[0] if matches else None
    if item is None or not item.purpose.enabled or (item.start is not None and item.start <= now):
        row.status, row.last_error = OutboxMessage.Status.CANCELLED, "withdrawn: no longer true when due"
        row.save(update_fields=["status", "last_error"])
        return None
    url = ""
    if "{link}" in item.purpose.text.get(case.patient.preferred_language, item.purpose.text["en"]):
        url = settings.KYPHOS_BASE_URL + links.path_for(links.ensure(WORKER, case))
    subject, body, ics = _render(item, row.channel, url)
    if (subject, body, ics) != (row.subject, row.body, row.calendar):
        row.subject, row.body, row.calendar = subject, body, ics
        row.save(update_fields=["subject", "body", "calendar"])
    return row


def _existing_keys(items: Iterable[Due]) -> set[str]:
    case_ids = {item.case.pk for item in items}
    return set(OutboxMessage.objects.filter(case_id__in=case_ids).values_list("key", flat=True))


@transaction.atomic
def send_new_link(case: Case, link: Any, again: int = 0) -> OutboxMessage | None:
    """Queue the "new link" message for a link staff have just issued (once per link; ``again`` > 0 for each
    resend of the same link); None if the site turned the purpose off."""
    purpose = message_rules.purposes(case.site.message_settings)["new_link"]
    if not purpose.enabled:
        return None
    channel, address = channel_and_address(case.patient)
    url = settings.KYPHOS_BASE_URL + links.path_for(link)
    occurrence = f"link{link.pk}" + (f"-again{again}" if again else "")
    subject, body, _html = _render(Due(case, purpose, occurrence, clock.current(), None, None, None), channel, url)
    row, created = enqueue(
        case,
        purpose.name,
        channel,
        to=address,
        body=body,
        subject=subject,
        language=case.patient.preferred_language,
        occurrence=occurrence,
    )
    if created:
        audit.record(
            WORKER,
            AuditAction.CREATE,
            "outbox_message",
            row.pk,
            patient_uuid=case.patient.uuid,
            detail=purpose.name,
        )
    return row


@transaction.atomic
def resend_link(actor: Actor, case: Case) -> OutboxMessage | None:
    """Send the patient's working link again (the same link, a new message); refused when there is none."""
    link = links.current_link(case)
    if link is None:
        raise Refused(_("There is no working link to send again: issue a new one."))
    sent_before = OutboxMessage.objects.filter(
        Q(key__endswith=f":link{link.pk}") | Q(key__contains=f":link{link.pk}-again"), case=case
    ).count()
    row = send_new_link(case, link, again=sent_before)
    audit.record(actor, AuditAction.UPDATE, "patient_link", link.pk, patient_uuid=case.patient.uuid, detail="resend")
    return row


def link_message(case: Case, link: Any) -> OutboxMessage | None:
    """The latest message that carried this link (the booking confirmation, a new or resent link)."""
    return OutboxMessage.objects.filter(case=case, body__contains=links.path_for(link)).order_by("-created_at").first()
