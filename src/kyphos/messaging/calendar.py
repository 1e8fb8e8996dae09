"""Calendar files (RFC 5545, through icalendar) for the procedure and the follow-up visit.

The event's UID is stable per appointment, so a rebooked appointment updates the entry in the patient's calendar
instead of adding a second one. The summary names the service, never the patient.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from icalendar import Alarm, Calendar, Event

from kyphos import clock, when
from kyphos.scheduling.models import Site

PRODID = "-//Kyphos//Patient appointments//EN"
# In the recipient's language (Django's catalogue; see src/kyphos/locale/).
WORDS = {
    "procedure": _("Kyphoplasty at {site}"),
    "visit": _("Follow-up visit at {site}"),
    "arrive": _("Please arrive at {arrival}. Questions: {phone}."),
    "visit_desc": _("Questions: {phone}."),
}


def invitation(
    *,
    uid: str,
    kind: str,
    start: datetime,
    end: datetime,
    site: Site,
    arrival: datetime | None,
    language: str = "en",
    method: str = "PUBLISH",
) -> str:
    """An iCalendar file with one event and a reminder the evening before (18 hours before the start)."""
    with translation.override(language):
        words = {key: str(text) for key, text in WORDS.items()}
    values = {
        "site": site.name,
        "phone": site.phone,
        "arrival": when.time_words(arrival, site, language) if arrival else "",
    }
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", f"{uid}@kyphos")
    event.add("dtstamp", clock.current())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", words[kind].format(**values))
    event.add("description", words["arrive" if kind == "procedure" else "visit_desc"].format(**values))
    address = str(getattr(site, "address", "") or "").replace("\n", ", ")
    if address:
        event.add("location", address)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", words[kind].format(**values))
    alarm.add("trigger", -timedelta(hours=18))
    event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")
