"""The audit viewer for the privacy officer (auditors and administrators): entries by patient, by user and by
time, the breaks of the glass and the failed sign-ins at a click, and the same selection as CSV.

It shows the entries about the patients of the viewer's sites, and the entries that name no patient (sign-ins,
account changes). Opening it is itself an audit entry, with the filters used."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.models import AuditAction, AuditEntry
from kyphos.formfields import CleanText
from kyphos.paging import CappedPaginator
from kyphos.pathway.models import Case
from kyphos.pathway.policy import site_ids_of
from kyphos.patients.models import Patient
from kyphos.web.forms import DateRangeFilter, date_range
from kyphos.web.views import actor_of, require

VIEWS = {
    "": (_("Every entry"), Q()),
    "break_glass": (_("Breaks of the glass"), Q(action=AuditAction.BREAK_GLASS)),
    "failed_sign_in": (_("Failed sign-ins"), Q(action=AuditAction.SIGN_IN_FAILED)),
    "sign_in": (_("Sign-ins and sign-outs"), Q(action__in=[AuditAction.SIGN_IN, AuditAction.SIGN_OUT])),
    "changes": (
        _("Changes"),
        Q(action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.TRANSITION, AuditAction.OVERRIDE]),
    ),
}
CSV_MAX_ROWS = 1_000_000


class AuditFilterForm(DateRangeFilter):
    show = forms.ChoiceField(label=_("Show"), required=False, choices=[(k, v[0]) for k, v in VIEWS.items()])
    patient = CleanText(
        label=_("Patient (MRN or identifier)"), required=False, max_length=64, help_text=_("An MRN or a patient UUID.")
    )
    user = CleanText(label=_("User"), required=False, max_length=150)

    def clean_patient(self) -> list[UUID]:
        text = str(self.cleaned_data.get("patient") or "").strip()
        if not text:
            return []
        try:
            return [UUID(text)]
        except ValueError:
            pass
        found = list(Patient.objects.filter(mrn=text).values_list("uuid", flat=True))
        if not found:
            raise forms.ValidationError(_("No patient has this MRN or identifier."))
        # A record merged into another (ADT^A40) keeps its own trail: the patient's history is both.
        merged = Patient.objects.filter(Q(merged_into__uuid__in=found) | Q(merged__uuid__in=found))
        return list(dict.fromkeys([*found, *merged.values_list("uuid", flat=True)]))


def entries_for(request: HttpRequest, data: dict[str, Any]) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("user").order_by("-at", "-id")
    mine = site_ids_of(request.user)
    if mine is not None:
        patients = Case.objects.filter(site_id__in=mine).values("patient__uuid")
        entries = entries.filter(Q(patient_uuid__isnull=True) | Q(patient_uuid__in=patients))
    entries = entries.filter(VIEWS[data.get("show") or ""][1])
    if data.get("patient"):
        entries = entries.filter(patient_uuid__in=data["patient"])
    if data.get("user"):
        entries = entries.filter(username=data["user"])
    start, end = date_range(data)
    if start is not None:
        entries = entries.filter(at__gte=start)
    if end is not None:
        entries = entries.filter(at__lt=end)
    return entries


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(["at_utc", "user", "action", "object_type", "object_id", "patient", "from", "detail", "hash"])
    for e in entries[:CSV_MAX_ROWS].iterator(chunk_size=2000):
        yield writer.writerow(
            [
                _cell(e.at.isoformat()),
                _cell(e.username),
                _cell(e.action),
                _cell(e.object_type),
                _cell(e.object_id),
                _cell(e.patient_uuid),
                _cell(e.client_addr),
                _cell(e.detail),
                e.hash,
            ]
        )


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    require(request, "audit.view")
    form = AuditFilterForm(request.GET or None)
    valid = not request.GET or form.is_valid()
    data = form.cleaned_data if request.GET and valid else {}
    entries = entries_for(request, data) if valid else AuditEntry.objects.none()
    filters = " ".join(f"{k}={v}" for k, v in request.GET.items() if k in form.fields and v)
    if valid and request.GET.get("format") == "csv":
        audit.record(actor_of(request), AuditAction.LIST, "audit", "", detail=f"audit CSV export {filters}"[:200])
        response = StreamingHttpResponse(_csv_rows(entries), content_type="text/csv; charset=utf-8")
        stamp = clock.current().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="kyphos-audit-{stamp}.csv"'
        return response
    page = CappedPaginator(entries, 100).get_page(request.GET.get("page"))
    audit.record(actor_of(request), AuditAction.LIST, "audit", "", detail=f"audit viewer {filters}"[:200])
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "kyphos/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "glass": AuditAction.BREAK_GLASS},
    )
