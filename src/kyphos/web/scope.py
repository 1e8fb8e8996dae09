"""Site scoping at the door of every page that names a case, a patient or a task, and breaking the glass.

Any URL with ``case_uuid``, ``patient_uuid`` or ``task_uuid`` (the staff pages of every room) is checked here
before its view runs: a user who does not work at one of the patient's sites sees a page that says so and may
open the record anyway by giving a reason. The reason is an audit entry of its own kind, listed for the privacy
officer, and opens that patient's records for this session only (for ``GLASS_HOURS`` at most).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.pathway.models import Case, Task
from kyphos.pathway.policy import site_ids_of
from kyphos.patients.models import Patient
from kyphos.scheduling.models import Site

GLASS_SESSION_KEY = "kyphos_glass"
GLASS_HOURS = 8
REASON_MIN = 10


def _patient_and_sites(view_kwargs: dict[str, Any]) -> tuple[UUID, set[int]] | None:
    """The patient a URL names and the sites of that patient's cases, or None when the URL names none (or
    nothing that exists: the view then answers 404 as it always has)."""
    if "case_uuid" in view_kwargs:
        row = Case.objects.filter(uuid=view_kwargs["case_uuid"]).values_list("patient__uuid", "site_id").first()
        return (row[0], {row[1]}) if row else None
    if "task_uuid" in view_kwargs:
        row = (
            Task.objects.filter(uuid=view_kwargs["task_uuid"])
            .values_list("case__patient__uuid", "case__site_id")
            .first()
        )
        return (row[0], {row[1]}) if row else None
    if "patient_uuid" in view_kwargs:
        patient_uuid = view_kwargs["patient_uuid"]
        sites = set(Case.objects.filter(patient__uuid=patient_uuid).values_list("site_id", flat=True))
        return (patient_uuid, sites) if sites or Patient.objects.filter(uuid=patient_uuid).exists() else None
    return None


def glass_open(request: HttpRequest, patient_uuid: UUID) -> bool:
    opened = request.session.get(GLASS_SESSION_KEY, {}).get(str(patient_uuid))
    return isinstance(opened, (int, float)) and clock.current().timestamp() - opened < GLASS_HOURS * 3600


def may_see(request: HttpRequest, patient_uuid: UUID, sites: set[int]) -> bool:
    mine = site_ids_of(request.user)
    return mine is None or bool(sites & mine) or glass_open(request, patient_uuid)


class SiteScopeMiddleware:
    """Answers a page about a patient outside the user's sites with the break-the-glass page (403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or view_func is break_glass:
            return None
        found = _patient_and_sites(view_kwargs)
        if found is None or may_see(request, *found):
            return None
        patient_uuid, sites = found
        return _glass_page(request, patient_uuid, sites, GlassForm(), request.get_full_path(), status=403)


class GlassForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need this patient's record?"),
        min_length=REASON_MIN,
        max_length=180,
        help_text=_("For example: covering the ward at the other site tonight; the patient called us about it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _glass_page(
    request: HttpRequest, patient_uuid: UUID, sites: set[int], form: GlassForm, target: str, status: int
) -> HttpResponse:
    names = ", ".join(Site.objects.filter(id__in=sites).order_by("code").values_list("name", flat=True))
    return render(
        request,
        "kyphos/break_glass.html",
        {
            "form": form,
            "action": reverse("break_glass", args=[patient_uuid]),
            "next": target,
            "site_names": names,
            "hours": GLASS_HOURS,
        },
        status=status,
    )


@login_required
@require_http_methods(["POST"])
def break_glass(request: HttpRequest, patient_uuid: UUID) -> HttpResponse:
    found = _patient_and_sites({"patient_uuid": patient_uuid})
    if found is None:
        raise Http404("No such patient.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("patient_detail", args=[patient_uuid])
    form = GlassForm(request.POST)
    if not form.is_valid():
        return _glass_page(request, patient_uuid, found[1], form, target, status=400)
    opened = dict(request.session.get(GLASS_SESSION_KEY, {}))
    opened[str(patient_uuid)] = clock.current().timestamp()
    request.session[GLASS_SESSION_KEY] = opened
    audit.record(
        Actor.from_request(request),
        AuditAction.BREAK_GLASS,
        "patient",
        patient_uuid,
        patient_uuid=patient_uuid,
        detail=" ".join(form.cleaned_data["reason"].split()),
    )
    return HttpResponseRedirect(target)
