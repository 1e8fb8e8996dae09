"""The worklist's rows, drawn in Python: the nurse's worklist shows up to 100 tasks, and drawing their rows through
the template engine (about 20 lookups, three dates in the site's zone, a form and four translations a row) was two
thirds of the page's time at registry scale (``make bench``: about 30 ms of 45). The same markup, escaped by
``format_html``, costs a tenth of that. The table's frame stays in ``kyphos/_task_table.html``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from kyphos.pathway.selectors import WorkItem
from kyphos.when import staff_when

DIARY_KINDS = {"diary_emergency", "diary_same_day", "diary_review"}
ROW = (
    '<tr class="{}">\n'
    '    <td data-sort="{}">{}{} – {}</td>\n'
    "    <td>{}{}</td>\n"
    '    <td><a href="/cases/{}/">{}</a></td>\n'
    "    <td>{}</td>\n"
    '    <td data-sort="{}">{}</td>\n'
    "    <td>{}{}{}</td>\n"
    "    <td>{}</td>\n"
    "  </tr>\n"
)
TAKE = (
    '<form method="post" action="/tasks/{}/claim/"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
    '<input type="hidden" name="next" value="{}"><button type="submit">{}</button></form>'
)


def task_rows(tasks: Iterable[WorkItem], now: datetime, csrf_token: str, next_path: str) -> SafeString:
    """The rows of a worklist table (paths written out: reversing ~200 URLs a page cost ~8 ms at bench scale)."""
    urgent_badge = format_html('<span class="sev sev-stop">{}</span> ', gettext("Urgent"))
    overdue_badge = format_html('<span class="sev sev-stop">{}</span> ', gettext("Overdue"))
    take = pgettext("a task", "Take")
    shown: dict[tuple[datetime, str], str] = {}  # many rows share a window's start or end

    def moment(at: datetime, zone: str) -> str:
        if (at, zone) not in shown:
            shown[at, zone] = staff_when(at, zone)
        return shown[at, zone]

    out = []
    for t in tasks:
        overdue = t.due_end < now
        task: str
        if t.kind == "precall":
            task = format_html('<a href="/cases/{}/call/">{}</a>', t.case_uuid, t.kind_label)
        elif t.kind in DIARY_KINDS:
            task = format_html('<a href="/cases/{}/diary/">{}</a>', t.case_uuid, t.kind_label)
        else:
            task = t.kind_label
        if t.appointment_start is not None:
            procedure: str = format_html("{} · {}", moment(t.appointment_start, t.site_zone), t.site_code)
        else:
            procedure = "—"
        out.append(
            format_html(
                ROW,
                "urgent" if t.urgent else "overdue" if overdue else "",
                ("0" if t.urgent else "") + t.due_end.isoformat(),
                urgent_badge if t.urgent else overdue_badge if overdue else "",
                moment(t.due_start, t.site_zone),
                moment(t.due_end, t.site_zone),
                task,
                format_html('<br><span class="muted">{}</span>', t.note) if t.note else "",
                t.case_uuid,
                t.patient_name,
                t.mrn,
                t.appointment_start.isoformat() if t.appointment_start else "",
                procedure,
                t.language_label,
                format_html("<br>{}", t.phone_mobile) if t.phone_mobile else "",
                format_html("<br>{}", t.phone_home) if t.phone_home else "",
                t.assignee or format_html(TAKE, t.task_uuid, csrf_token, next_path, take),
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every part above went through format_html
