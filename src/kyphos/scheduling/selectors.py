"""Reads of the booking calendar: the free times of a room on a day, within the site's hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kyphos.scheduling.models import HOLDS_ROOM, Appointment, Room


def free_times(room: Room, day: date, minutes: int) -> list[tuple[datetime, datetime]]:
    """The stretches of ``day`` (the site's local day) when ``room`` is open and unbooked, at least ``minutes``
    long, in order: what a scheduler can choose from."""
    calendar = room.site.calendar()
    intervals = calendar.business_intervals(day)
    if not intervals:
        return []
    taken = list(
        Appointment.objects.filter(
            room=room, status__in=HOLDS_ROOM, start__lt=intervals[-1][1], end__gt=intervals[0][0]
        ).order_by("start")
    )
    free: list[tuple[datetime, datetime]] = []
    need = timedelta(minutes=minutes)
    for opens, closes in intervals:
        cursor = opens
        for booking in taken:
            if booking.end <= cursor or booking.start >= closes:
                continue
            if booking.start - cursor >= need:
                free.append((cursor, booking.start))
            cursor = max(cursor, booking.end)
        if closes - cursor >= need:
            free.append((cursor, closes))
    return free
