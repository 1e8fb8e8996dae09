"""The staff pages of outside imaging: read in a patient's CD (a ZIP or the folder, dragged or chosen, with a
progress bar), look at what it holds and whose it is, store it, decide a quarantine; reports and films received.

Each view parses the input, calls one service (``importing`` for the disc, ``precall.imaging`` for decisions and
documents) and renders; a refusal is shown next to its field (or, for the upload script, returned as JSON)."""

from __future__ import annotations

import json
from typing import IO, Any, cast
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput, KyphosError
from kyphos.formfields import REFUSALS, put_errors
from kyphos.interop.dicom import importing, preview
from kyphos.interop.dicom.forms import DecisionForm, DiscForm, DocumentForm
from kyphos.pathway import kernel, selectors
from kyphos.pathway.models import Case
from kyphos.pathway.policy import may
from kyphos.precall import imaging
from kyphos.precall.models import DocumentKind, ImportStatus, OutsideDocument, OutsideImport
from kyphos.rules import identity

SKIPPED_WORDS = preview.SKIPPED


def _require(request: HttpRequest, permission: str) -> None:
    kernel.require(Actor.from_request(request), permission)  # a 403 with the permission named


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _page(request: HttpRequest, case: Case, **extra: Any) -> HttpResponse:
    context = {
        "case": case,
        "patient": case.patient,
        **selectors.banner(case),
        "studies": list(imaging.outside_imaging(case)),
        "imports": list(case.outside_imports.all()[:50]),
        "documents": list(case.outside_documents.all()),
        "may_import": may(request.user, "imaging.import"),
        "disc_form": DiscForm(),
        "document_form": DocumentForm(initial={"kind": DocumentKind.REPORT}),
        "max_upload_mb": importing._limit() // (1024 * 1024),  # noqa: SLF001 - the same module's limit, shown
        **extra,
    }
    status = 400 if any(f.errors for f in (context["disc_form"], context["document_form"])) else 200
    return render(request, "interop/imaging.html", context, status=status)


@login_required
@require_GET
def imaging_page(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _require(request, "case.view")
    case = selectors.case_or_404(case_uuid)
    audit.record(
        Actor.from_request(request),
        AuditAction.VIEW,
        "outside_imaging",
        case.uuid,
        patient_uuid=case.patient.uuid,
        detail="outside imaging page",
    )
    return _page(request, case)


def _unpack(request: HttpRequest) -> Any:
    """The uploaded disc in a staging folder (a ZIP unpacked, or the folder's files with their paths)."""
    zipped = request.FILES.get("disc")
    files = request.FILES.getlist("folder")
    if zipped is not None:
        return importing.unpack_zip(cast(IO[bytes], zipped))
    if not files:
        raise InvalidInput(_("Choose a ZIP of the CD, or the CD's folder."))
    try:
        paths = json.loads(request.POST.get("paths") or "[]")
    except ValueError:
        paths = []
    if not isinstance(paths, list) or len(paths) != len(files) or not all(isinstance(p, str) for p in paths):
        paths = [f"{n:05d}-{f.name}" for n, f in enumerate(files)]  # without the page's script: names only
    return importing.unpack_files(zip(paths, (cast(IO[bytes], f) for f in files), strict=True))


@login_required
@require_POST
def upload(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    """Read in a CD uploaded on the page; then its import page shows what it holds and whose it is."""
    _require(request, "imaging.import")
    case = selectors.case_or_404(case_uuid)
    form = DiscForm(request.POST, request.FILES)
    try:
        folder = _unpack(request)
        outside, _disc = importing.read_in(Actor.from_request(request), case, folder, source="upload", staged=folder)
    except KyphosError as exc:
        if _wants_json(request):
            return JsonResponse({"error": exc.message}, status=400)
        form.is_valid()
        form.add_error("disc", exc.message)
        return _page(request, case, disc_form=form)
    target = reverse("imaging:import", args=[case.uuid, outside.uuid])
    if _wants_json(request):
        return JsonResponse({"next": target})
    return redirect(target)


@login_required
@require_POST
def add_document(request: HttpRequest, case_uuid: UUID) -> HttpResponse:
    _require(request, "imaging.import")
    case = selectors.case_or_404(case_uuid)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["upload"]
        content = upload.read(imaging.MAX_DOCUMENT_BYTES + 1) if upload else b""
        try:
            imaging.add_document(
                Actor.from_request(request),
                case,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                content=content,
            )
        except REFUSALS as exc:
            put_errors(form, exc, {"__all__": "upload"})
            if not form.errors.get("upload") and isinstance(exc, KyphosError):
                form.add_error("upload", exc.message)
        else:
            messages.success(request, _("Recorded on the case."))
            return redirect("imaging:page", case.uuid)
    return _page(request, case, document_form=form)


@login_required
@require_GET
def document(request: HttpRequest, case_uuid: UUID, document_uuid: UUID) -> HttpResponse:
    _require(request, "case.view")
    case = selectors.case_or_404(case_uuid)
    found = OutsideDocument.objects.filter(case=case, uuid=document_uuid).exclude(stored_name="").first()
    if found is None:
        raise Http404("No such document.")
    try:
        content = imaging.read_document(Actor.from_request(request), found)
    except OSError:
        raise Http404("The document's file is missing.") from None
    response = HttpResponse(content, content_type=found.content_type)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(found.content_type, "bin")
    response["Content-Disposition"] = f'attachment; filename="document-{found.uuid}.{extension}"'
    return response


def _import(case: Case, import_uuid: UUID) -> OutsideImport:
    found = case.outside_imports.filter(uuid=import_uuid).first()
    if found is None:
        raise Http404("No such import.")
    found.case = case
    return found


def _comparison(case: Case, outside: OutsideImport) -> list[dict[str, Any]]:
    """Each patient the disc names beside the case's patient, field by field, with what differs."""
    ours = preview.ours(case)
    rows = []
    for listed in outside.contents.get("patients", []):
        person = identity.from_dicom(listed.get("name", ""), listed.get("birth_date", ""), listed.get("sex", ""))
        differs = {m.field for m in identity.compare(person, ours)}
        rows.append({"listed": listed, "person": person, "differs": differs})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, case_uuid: UUID, import_uuid: UUID) -> HttpResponse:
    """What a disc holds and whose it is; store it, discard it, or (in quarantine) accept or reject it."""
    _require(request, "case.view")
    case = selectors.case_or_404(case_uuid)
    outside = _import(case, import_uuid)
    actor = Actor.from_request(request)
    form = DecisionForm(request.POST or None, initial={"version": outside.version})
    if request.method == "POST":
        action = request.POST.get("action", "")
        if form.is_valid():
            try:
                done = _decide(actor, outside, action, form.cleaned_data)
            except REFUSALS as exc:
                put_errors(form, exc, {"__all__": "reason"})
                if isinstance(exc, KyphosError) and not form.errors:
                    form.add_error("reason", exc.message)
            else:
                messages.success(request, done)
                return redirect("imaging:import", case.uuid, outside.uuid)
    else:
        audit.record(
            actor, AuditAction.VIEW, "outside_import", outside.uuid, patient_uuid=case.patient.uuid, detail="import"
        )
    context = {
        "case": case,
        "patient": case.patient,
        **selectors.banner(case),
        "outside": outside,
        "form": form,
        "studies": list(outside.studies.all()),
        "comparison": _comparison(case, outside),
        "reasons": [imaging.reason_text(r) for r in outside.reasons],
        "skipped": [
            {"path": s["path"], "reason": SKIPPED_WORDS.get(s["reason"], s["reason"])}
            for s in outside.contents.get("skipped", [])
        ],
        "skipped_count": outside.contents.get("skipped_count", len(outside.contents.get("skipped", []))),
        "may_import": may(request.user, "imaging.import"),
        "may_resolve": may(request.user, "imaging.resolve"),
        "pacs": importing.pacs_of(case)[1] is not None,
        "storing": outside.status == ImportStatus.ACCEPTED,
    }
    return render(request, "interop/import.html", context, status=400 if form.errors else 200)


def _decide(actor: Actor, outside: OutsideImport, action: str, data: dict[str, Any]) -> str:
    version, reason = data["version"], data.get("reason") or ""
    if action == "store":
        imaging.confirm_import(actor, outside, version=version)
        return _("The images are being stored; this page shows how far it has gone.")
    if action == "retry":
        imaging.retry_import(actor, outside, version=version)
        return _("Trying again: images already stored are not sent twice.")
    if action == "discard":
        importing.discard_staged(imaging.discard_import(actor, outside, version=version))
        return _("Discarded: nothing was stored.")
    if action in ("accept", "reject"):
        decided = imaging.resolve_import(actor, outside, accept=action == "accept", reason=reason, version=version)
        importing.discard_staged(decided)
        if action == "accept":
            return _("Accepted as the patient's: the images are being stored.")
        return _("Rejected: nothing is attached and Kyphos's copy is removed.")
    raise InvalidInput(_("Choose what to do with the disc."))
