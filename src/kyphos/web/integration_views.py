"""The integration page for the interface analysts: every HL7 v2 message received or sent, by status, type,
sender and time, with the parsed view, the error and where it is, and replay (a received message that failed or
was held) or resend (a message that was not sent) once the cause is fixed.

Managers see the traffic; the patient data inside a message (every segment but the header, the ACK and the error)
is shown only to roles that hold ``interface.patient_data``. Listing, opening, replaying and resending are audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from kyphos.audit import services as audit
from kyphos.audit.models import AuditAction
from kyphos.errors import KyphosError
from kyphos.formfields import CleanText
from kyphos.interop.hl7v2 import inbound, outbound
from kyphos.interop.hl7v2.reading import Unreadable, read
from kyphos.interop.models import Hl7Message
from kyphos.paging import CappedPaginator
from kyphos.pathway.policy import may
from kyphos.web.forms import DateRangeFilter, date_range
from kyphos.web.views import actor_of, require

# Segments that say how the message travels, not about whom: shown to everyone who may open the page.
ENVELOPE = {"MSH", "EVN", "MSA", "ERR", "SFT"}
VIEWS = {
    "": (_("Every message"), Q()),
    "attention": (
        _("Needs attention"),
        Q(status__in=[Hl7Message.Status.ERROR, Hl7Message.Status.HELD, Hl7Message.Status.FAILED]),
    ),
    "held": (_("Held for review"), Q(status=Hl7Message.Status.HELD)),
    "error": (_("Errors (AE)"), Q(status=Hl7Message.Status.ERROR)),
    "rejected": (_("Rejected (AR)"), Q(status=Hl7Message.Status.REJECTED)),
    "not_sent": (_("Not sent"), Q(status=Hl7Message.Status.FAILED)),
    "waiting": (_("Waiting to be sent"), Q(status=Hl7Message.Status.PENDING)),
}


class MessageFilterForm(DateRangeFilter):
    show = forms.ChoiceField(label=_("Show"), required=False, choices=[(k, v[0]) for k, v in VIEWS.items()])
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("Both")), *Hl7Message.Direction.choices]
    )
    message_type = CleanText(label=_("Type"), required=False, max_length=30, help_text=_("ADT, SIU^S12, ORU …"))
    system = CleanText(
        label=_("System"), required=False, max_length=180, help_text=_("Sending or receiving application.")
    )
    control_id = CleanText(label=_("Control ID (MSH-10)"), required=False, max_length=199)


def messages_for(data: dict[str, Any]) -> QuerySet[Hl7Message]:
    rows = Hl7Message.objects.defer("raw", "ack").select_related("destination").order_by("-at", "-id")
    rows = rows.filter(VIEWS[data.get("show") or ""][1])
    if data.get("direction"):
        rows = rows.filter(direction=data["direction"])
    if data.get("message_type"):
        rows = rows.filter(message_type__istartswith=data["message_type"])
    if data.get("system"):
        name = data["system"]
        rows = rows.filter(Q(sending_application__iexact=name) | Q(receiving_application__iexact=name))
    if data.get("control_id"):
        rows = rows.filter(control_id=data["control_id"])
    start, end = date_range(data)
    if start is not None:
        rows = rows.filter(at__gte=start)
    if end is not None:
        rows = rows.filter(at__lt=end)
    return rows


@login_required
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    require(request, "interface.view")
    form = MessageFilterForm(request.GET or None)
    valid = not request.GET or form.is_valid()
    data = form.cleaned_data if request.GET and valid else {}
    rows = messages_for(data) if valid else Hl7Message.objects.none()
    page = CappedPaginator(rows, 100).get_page(request.GET.get("page"))
    counts = dict(Hl7Message.objects.values_list("status").annotate(n=Count("id")).order_by())
    filters = " ".join(f"{k}={v}" for k, v in request.GET.items() if k in form.fields and v)
    audit.record(actor_of(request), AuditAction.LIST, "hl7_message", "", detail=f"integration page {filters}"[:200])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "kyphos/integration_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "counts": [(label, counts.get(value, 0), value) for value, label in Hl7Message.Status.choices],
        },
    )


def _message_or_404(message_id: int) -> Hl7Message:
    row = Hl7Message.objects.select_related("destination").filter(pk=message_id).first()
    if row is None:
        raise Http404("No such message.")
    return row


def parsed(raw: bytes, patient_data: bool) -> tuple[list[dict[str, Any]], str]:
    """The message as segments of numbered fields; the patient's segments masked unless ``patient_data``."""
    try:
        _header, message = read(raw)
    except Unreadable as problem:
        return [], str(problem.reason)
    segments = []
    counts: dict[str, int] = {}
    for segment in message:
        name = str(segment[0])
        counts[name] = counts.get(name, 0) + 1
        hidden = name not in ENVELOPE and not patient_data
        # python-hl7 keeps MSH-1 (the field separator itself) as the segment's first field, so the numbers agree
        # with the standard's for every segment.
        values = [str(f) for f in segment[1:]]
        fields = [{"number": n, "value": "•••" if hidden and v else v} for n, v in enumerate(values, start=1) if v]
        segments.append({"name": name, "occurrence": counts[name], "fields": fields, "hidden": hidden})
    return segments, ""


@login_required
@require_GET
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    require(request, "interface.view")
    row = _message_or_404(message_id)
    patient_data = may(request.user, "interface.patient_data")
    segments, unreadable = parsed(bytes(row.raw), patient_data)
    ack_segments, _ = parsed(bytes(row.ack), patient_data) if row.ack else ([], "")
    audit.record(
        actor_of(request),
        AuditAction.VIEW,
        "hl7_message",
        row.pk,
        patient_uuid=row.patient_uuid,
        detail="integration page" + (" with patient data" if patient_data else ""),
    )
    can_act = may(request.user, "interface.manage")
    return render(
        request,
        "kyphos/integration_detail.html",
        {
            "row": row,
            "segments": segments,
            "ack_segments": ack_segments,
            "unreadable": unreadable,
            "patient_data": patient_data,
            "can_replay": can_act
            and row.direction == Hl7Message.Direction.INBOUND
            and row.status in {Hl7Message.Status.ERROR, Hl7Message.Status.HELD},
            "can_resend": can_act
            and row.direction == Hl7Message.Direction.OUTBOUND
            and row.status == Hl7Message.Status.FAILED,
        },
    )


@login_required
@require_POST
def message_replay(request: HttpRequest, message_id: int) -> HttpResponse:
    require(request, "interface.manage")
    row = _message_or_404(message_id)
    actor = actor_of(request)
    try:
        if row.direction == Hl7Message.Direction.OUTBOUND:
            outbound.resend(actor, row)
            messages.success(request, _("The message goes again, first in its destination's queue."))
        else:
            done = inbound.replay(row)
            audit.record(
                actor, AuditAction.UPDATE, "hl7_message", row.pk, patient_uuid=done.patient_uuid, detail="replayed"
            )
            outcome = Hl7Message.Status(done.status).label
            messages.success(request, _("Replayed: %(outcome)s.") % {"outcome": outcome})
    except KyphosError as exc:
        messages.error(request, str(exc.message))
    return redirect("integration_detail", message_id=row.pk)
