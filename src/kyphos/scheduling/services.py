"""Bookings: book, reschedule, cancel. Each keeps the history and refuses a clash in the same room."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos import clock, when
from kyphos.scheduling.models import HOLDS_ROOM, Appointment, AppointmentStatus, Room, Site, Visit
from kyphos.translation import Words

MAX_PROCEDURE_MINUTES = 8 * 60


def find_clash(room: Room, start: datetime, end: datetime, *, ignore: Appointment | None = None) -> Appointment | None:
    """The booking already holding ``room`` at any moment in [start, end), if there is one."""
    clashes = Appointment.objects.filter(room=room, status__in=HOLDS_ROOM, start__lt=end, end__gt=start)
    if ignore is not None:
        clashes = clashes.exclude(pk=ignore.pk)
    return clashes.order_by("start").first()


def _validate_slot(site: Site, room: Room, start: datetime, minutes: int) -> None:
    errors: dict[str, Words] = {}
    if room.site_id != site.pk:
        errors["room"] = format_lazy(_("{room} is not a room of {site}."), room=room.name, site=site.name)
    elif not room.active:
        errors["room"] = format_lazy(_("{name} is not in use."), name=room.name)
    if start.tzinfo is None:
        errors["start"] = _("The start time must carry its time zone.")
    elif start <= clock.current():
        errors["start"] = _("The start time is in the past; choose a future time.")
    if not 10 <= minutes <= MAX_PROCEDURE_MINUTES:
        errors["duration"] = format_lazy(
            _("Planned duration must be between 10 and {most} minutes."),
            most=MAX_PROCEDURE_MINUTES,
        )
    if errors:
        raise ValidationError(errors)


def _refuse_clash(room: Room, start: datetime, end: datetime, ignore: Appointment | None = None) -> None:
    # Lock the room row so two schedulers booking the same slot are served one after the other.
    Room.objects.select_for_update(no_key=True).filter(pk=room.pk).first()
    clash = find_clash(room, start, end, ignore=ignore)
    if clash is not None:
        booked, until = when.staff_when(clash.start, room.site, zone=False), when.staff_time(clash.end, room.site)
        raise ValidationError(
            {
                "start": format_lazy(
                    _("{name} is already booked {booked}–{until}; choose another time or room."),
                    name=room.name,
                    booked=booked,
                    until=until,
                )
            }
        )


@transaction.atomic
def book_appointment(case_uuid: UUID, site: Site, room: Room, start: datetime, minutes: int) -> Appointment:
    _validate_slot(site, room, start, minutes)
    end = start + timedelta(minutes=minutes)
    _refuse_clash(room, start, end)
    moment = clock.current()
    return Appointment.objects.create(
        case_uuid=case_uuid,
        site=site,
        room=room,
        start=start,
        end=end,
        arrival_at=start - timedelta(minutes=site.arrival_lead_minutes),
        created_at=moment,
        updated_at=moment,
    )


@transaction.atomic
def reschedule_appointment(old: Appointment, room: Room, start: datetime, minutes: int, reason: str) -> Appointment:
    """Close ``old`` as rescheduled and book its replacement; both stay on record."""
    if old.status not in HOLDS_ROOM:
        raise ValidationError(
            format_lazy(
                _("This booking is {status} and cannot be rescheduled."), status=old.get_status_display().lower()
            )
        )
    _validate_slot(old.site, room, start, minutes)
    end = start + timedelta(minutes=minutes)
    _refuse_clash(room, start, end, ignore=old)
    moment = clock.current()
    Appointment.objects.filter(pk=old.pk).update(
        status=AppointmentStatus.RESCHEDULED, status_reason=reason[:200], updated_at=moment
    )
    old.status = AppointmentStatus.RESCHEDULED
    return Appointment.objects.create(
        case_uuid=old.case_uuid,
        site=old.site,
        room=room,
        start=start,
        end=end,
        arrival_at=start - timedelta(minutes=old.site.arrival_lead_minutes),
        replaces=old,
        created_at=moment,
        updated_at=moment,
    )


@transaction.atomic
def set_appointment_status(appointment: Appointment, status: AppointmentStatus, reason: str = "") -> None:
    allowed = {
        AppointmentStatus.BOOKED: {
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.ARRIVED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.NO_SHOW,
        },
        AppointmentStatus.CONFIRMED: {
            AppointmentStatus.ARRIVED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.NO_SHOW,
        },
        AppointmentStatus.ARRIVED: {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED},
    }
    if status not in allowed.get(AppointmentStatus(appointment.status), set()):
        raise ValidationError(
            format_lazy(
                _("A booking that is {status} cannot become {status2}."),
                status=appointment.get_status_display().lower(),
                status2=status.label.lower(),
            )
        )
    Appointment.objects.filter(pk=appointment.pk).update(
        status=status, status_reason=reason[:200], updated_at=clock.current()
    )
    appointment.status = status
    appointment.status_reason = reason[:200]


@transaction.atomic
def book_follow_up(case_uuid: UUID, site: Site, window_start: datetime, window_end: datetime) -> Visit | None:
    """Book the first free follow-up slot in the window, inside the site's business hours; None if none is free."""
    Site.objects.select_for_update(no_key=True).filter(pk=site.pk).first()  # one booker at a time per site
    length = timedelta(minutes=site.follow_up_minutes)
    calendar = site.calendar()
    taken = list(
        Visit.objects.filter(
            site=site, status=Visit.Status.BOOKED, start__lt=window_end, end__gt=window_start
        ).values_list("start", "end")
    )
    now = clock.current()
    day = when.local_day(window_start, site)
    while day <= when.local_day(window_end, site):
        for opens, closes in calendar.business_intervals(day):
            slot = max(opens, window_start)
            while slot + length <= min(closes, window_end):
                if slot > now and not any(s < slot + length and e > slot for s, e in taken):
                    return Visit.objects.create(
                        case_uuid=case_uuid, site=site, start=slot, end=slot + length, created_at=now
                    )
                slot += length
        day += timedelta(days=1)
    return None
