"""The FHIR R4 edge at ``/fhir/``: one place that authenticates, checks the scope, audits and maps errors.

Every interaction goes through ``endpoint``: the bearer token gives the client (its service account's roles and
sites apply as for a person), the token's SMART scopes must allow the interaction on the resource type, and any
refusal is an OperationOutcome with its status, never a traceback. Writes call the rooms' services, the same as
the screens and the HL7 feed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as ModelError

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import KyphosError
from kyphos.interop.fhir import bulk, clients, kinds, resources, scopes, search
from kyphos.interop.fhir.outcome import FhirError, error_response, outcome, respond
from kyphos.interop.models import BulkExport
from kyphos.pathway.policy import may
from kyphos.patients.models import Patient

log = logging.getLogger("kyphos.fhir")
FHIR_VERSION = "4.0.1"
CAPABILITIES_CHANGED = "2026-12-03"  # when what this server supports last changed: move it with the registry
JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}


@dataclass
class Call:
    """One API request as the handlers see it."""

    request: HttpRequest
    grant: clients.Grant
    actor: Actor
    base: str
    extra: dict[str, Any] = field(default_factory=dict)


def base_url(request: HttpRequest) -> str:
    configured = getattr(settings, "KYPHOS_FHIR_BASE_URL", "")
    return configured.rstrip("/") if configured else request.build_absolute_uri("/fhir").rstrip("/")


def _grant(request: HttpRequest) -> clients.Grant:
    grant = clients.authenticate(request.headers.get("Authorization", ""))
    if grant is None:
        raise FhirError(401, "login", _("A valid bearer token is required (SMART Backend Services)."))
    return grant


def _allow(call: Call, resource_type: str, interaction: str) -> None:
    if not scopes.allows(call.grant.scopes, resource_type, interaction):
        audit.record(call.actor, AuditAction.REFUSED, resource_type.lower(), "", detail=f"FHIR {interaction}: scope")
        raise FhirError(
            403,
            "forbidden",
            _("The token's scopes do not allow {interaction} on {type}.").format(
                interaction=interaction, type=resource_type
            ),
        )


def _body(request: HttpRequest, resource_type: str) -> dict[str, Any]:
    kind = request.content_type or ""
    if kind not in JSON_TYPES:
        raise FhirError(415, "not-supported", _("Send the resource as application/fhir+json."))
    try:
        raw = request.body
    except RequestDataTooBig:
        raise FhirError(413, "too-costly", _("The resource is too large.")) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FhirError(400, "structure", _("The body is not JSON.")) from None
    if not isinstance(data, dict):
        raise FhirError(400, "structure", _("The body must be one FHIR resource (a JSON object)."))
    if data.get("resourceType") != resource_type:
        raise FhirError(
            400, "invalid", _("The body must be a {type} resource.").format(type=resource_type), "resourceType"
        )
    if "\x00" in raw.decode("utf-8", "replace"):
        raise FhirError(400, "invalid", _("The resource contains a NUL character."))
    try:
        get_fhir_model_class(resource_type).model_validate(data)
    except ModelError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
        raise FhirError(
            400,
            "structure",
            _("Not a valid {type}: {why}").format(type=resource_type, why=first.get("msg", "")[:200]),
            f"{resource_type}.{where}" if where else resource_type,
        ) from None
    except (ValueError, TypeError, RecursionError):
        raise FhirError(400, "structure", _("Not a valid {type}.").format(type=resource_type)) from None
    return data


def endpoint(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Authenticate, run, and turn every refusal into an OperationOutcome; never a traceback."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            if any("\x00" in part for key, values in request.GET.lists() for part in (key, *values)):
                raise FhirError(400, "invalid", _("A search parameter contains a NUL character."))
            grant = _grant(request)
            call = Call(request, grant, grant.actor(getattr(request, "client_addr", None)), base_url(request))
            return view(call, *args, **kwargs)
        except FhirError as exc:
            return error_response(exc)
        except KyphosError as exc:
            status = 403 if exc.code == "forbidden" else 422
            return error_response(FhirError(status, "forbidden" if status == 403 else "business-rule", exc.message))
        except ValidationError as exc:
            return error_response(FhirError(422, "business-rule", " ".join(str(m) for m in exc.messages)))
        except Exception:  # noqa: BLE001 - the client gets an OperationOutcome, the log the traceback (no data)
            log.exception("FHIR %s %s failed", request.method, request.path.split("?")[0][:80])
            return error_response(FhirError(500, "exception", _("Kyphos could not answer this request.")))

    wrapped.__name__ = view.__name__
    return wrapped


def _etag(version: int) -> str:
    return f'W/"{version}"'


def _version_asked(header: str) -> str:
    text = header.strip()
    if text.startswith("W/"):
        text = text[2:]
    return text.strip('"')


def _kind(resource_type: str) -> kinds.Kind:
    kind = kinds.REGISTRY.get(resource_type)
    if kind is None:
        raise FhirError(404, "not-supported", _("Kyphos does not serve {type}.").format(type=resource_type[:40]))
    return kind


def _row(call: Call, kind: kinds.Kind, resource_id: str) -> tuple[kinds.Kind, Any]:
    """The part of ``kind`` an id names and its row, as the client may see it; 404 otherwise."""
    part = kinds.part_of_id(kind, resource_id)
    found = part.lookup(part.visible(call.grant.client.user), resource_id).first() if part is not None else None
    if part is None or found is None:
        raise FhirError(404, "not-found", _("No {type} {id}.").format(type=kind.name, id=resource_id[:64]))
    return part, found


def _audit_pairs(call: Call, kind: kinds.Kind, pairs: list[tuple[int, Any]], detail: str) -> None:
    parts = kinds.parts_of(kind)
    for index in sorted({index for index, _row in pairs}):
        part = parts[index]
        found = [(part.id_of(row), part.patient_of(row)) for i, row in pairs if i == index]
        audit.record_list(call.actor, part.audit_type, found, detail=detail)


@endpoint
def type_level(call: Call, resource_type: str) -> HttpResponse:
    kind = _kind(resource_type)
    request = call.request
    if request.method == "GET":
        return _search(call, kind, request.GET)
    if request.method == "POST" and kind.create is not None:
        return _create(call, kind)
    raise FhirError(405, "not-supported", _("{method} is not supported here.").format(method=request.method))


@endpoint
def search_post(call: Call, resource_type: str) -> HttpResponse:
    if call.request.method != "POST":
        raise FhirError(405, "not-supported", _("Use POST for _search."))
    return _search(call, _kind(resource_type), call.request.POST)


def _search(call: Call, kind: kinds.Kind, params: QueryDict) -> HttpResponse:
    _allow(call, kind.name, "search")
    if any("\x00" in part for key, values in params.lists() for part in (key, *values)):  # POST _search's form
        raise FhirError(400, "invalid", _("A search parameter contains a NUL character."))
    unknown = search.unknown_params(params, set(kind.params) | {"_include", "_revinclude"})
    if unknown and "handling=strict" in call.request.headers.get("Prefer", ""):
        raise FhirError(400, "not-supported", _("Unknown search parameter: {name}.").format(name=unknown[0][:40]))
    user = call.grant.client.user
    parts = [(part.visible(user).filter(part.search(params)), part.sorts) for part in kinds.parts_of(kind)]
    found = search.page(parts, params, kind.default_sort)
    entries = kinds.serve_pairs(kind, found.rows)
    _audit_pairs(call, kind, found.rows, "FHIR search")
    body = search.bundle(call.base, kind.name, params, found, entries)
    body["entry"] += _included(call, kind, params, found.rows, entries)
    if unknown:
        body["entry"].append(
            {
                "resource": outcome(
                    "not-supported", _("Ignored: {names}.").format(names=", ".join(unknown)[:200]), "warning"
                ),
                "search": {"mode": "outcome"},
            }
        )
    return respond(body)


PATIENT_REFERENCES = {"patient", "subject", "for"}
REVINCLUDE_MAX = 1000


def _referenced(resource: dict[str, Any], path: str, target: str) -> list[str]:
    """The ids of ``target`` resources that ``resource`` references at ``path`` (dotted, through lists)."""
    found: list[Any] = [resource]
    for step in path.split("."):
        values = [item.get(step) for item in found if isinstance(item, dict)]
        found = [v for value in values for v in (value if isinstance(value, list) else [value]) if v is not None]
    references = [str(item.get("reference", "")) for item in found if isinstance(item, dict)]
    return [ref.split("/", 1)[1] for ref in references if ref.startswith(f"{target}/")]


def _rows_named(user: Any, kind: kinds.Kind, params: QueryDict, most: int) -> list[tuple[int, Any]]:
    """Up to ``most`` rows of ``kind`` a search finds (every part), oldest row first in each part."""
    found: list[tuple[int, Any]] = []
    for index, part in enumerate(kinds.parts_of(kind)):
        if len(found) < most:
            rows = part.visible(user).filter(part.search(params)).order_by("pk")
            found += [(index, row) for row in rows[: most - len(found)]]
    return found


def _included(
    call: Call, kind: kinds.Kind, params: QueryDict, pairs: list[tuple[int, Any]], entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``_include=<Type>:<param>`` (the resources the page's entries reference: the patient, or a linked type such
    as ``Observation:based-on``) and ``_revinclude=<Type>:<param>`` (the resources of that type referencing the
    page's entries: on a Patient search, any type's ``patient``; else a linked type such as
    ``Appointment:based-on`` on a ServiceRequest search), up to REVINCLUDE_MAX each, all audited."""
    user, extra = call.grant.client.user, []
    patient_kind = kinds.REGISTRY["Patient"]
    parts = kinds.parts_of(kind)
    for value in params.getlist("_include"):
        source, _colon, param = value.partition(":")
        linked = kind.links.get(param) if source == kind.name else None
        if linked is not None:
            target = kinds.REGISTRY[linked[0]]
            _allow(call, target.name, "read")
            ids = sorted({i for entry in entries for i in _referenced(entry, linked[1], target.name)})
            named = QueryDict(mutable=True)
            named["_id"] = ",".join(ids)
            extra.append((target, _rows_named(user, target, named, REVINCLUDE_MAX) if ids else []))
            continue
        if source != kind.name or param not in PATIENT_REFERENCES or param not in kind.params:
            raise FhirError(
                400,
                "not-supported",
                _("_include supports <Type>:patient (or subject) and the linked references of the type searched."),
                "_include",
            )
        _allow(call, "Patient", "read")
        wanted = {parts[index].patient_of(row) for index, row in pairs} - {None}
        extra.append((patient_kind, [(0, row) for row in patient_kind.visible(user).filter(uuid__in=wanted)]))
    for value in params.getlist("_revinclude"):
        source, _colon, param = value.partition(":")
        other = kinds.REGISTRY.get(source)
        if other is not None and other.links.get(param, ("",))[0] == kind.name:
            _allow(call, other.name, "search")
            named = QueryDict(mutable=True)
            named[param] = ",".join(f"{kind.name}/{parts[index].id_of(row)}" for index, row in pairs)
            extra.append((other, _rows_named(user, other, named, REVINCLUDE_MAX) if pairs else []))
            continue
        if kind.name != "Patient" or other is None or other.compartment is None or param not in PATIENT_REFERENCES:
            raise FhirError(
                400,
                "not-supported",
                _("_revinclude supports <Type>:patient on a Patient search and the linked references to the type."),
                "_revinclude",
            )
        _allow(call, other.name, "search")
        patients = Patient.objects.filter(pk__in=[row.pk for _index, row in pairs])
        found: list[tuple[int, Any]] = []
        for index, part in enumerate(kinds.parts_of(other)):
            if part.compartment is not None and len(found) < REVINCLUDE_MAX:
                rows = part.compartment(part.visible(user), patients).order_by("pk")
                found += [(index, row) for row in rows[: REVINCLUDE_MAX - len(found)]]
        extra.append((other, found))
    included = []
    for other, found in extra:
        _audit_pairs(call, other, found, "FHIR include")
        included += [
            {"fullUrl": f"{call.base}/{other.name}/{r['id']}", "resource": r, "search": {"mode": "include"}}
            for r in kinds.serve_pairs(other, found)
        ]
    return included


def _may_write(call: Call, kind: kinds.Kind, interaction: str) -> None:
    _allow(call, kind.name, interaction)
    if kind.create_permission and not may(call.grant.client.user, kind.create_permission):
        raise FhirError(
            403, "forbidden", _("This client's role does not allow changing {type}.").format(type=kind.name)
        )


def _create(call: Call, kind: kinds.Kind) -> HttpResponse:
    assert kind.create is not None
    _may_write(call, kind, "create")
    data = _body(call.request, kind.name)
    condition = call.request.headers.get("If-None-Exist", "")
    with transaction.atomic():
        if condition:  # conditional create: an existing match is answered, not duplicated
            params = QueryDict(condition)
            first = kinds.parts_of(kind)[0]  # what a client creates is the type's first part
            matches = list(first.visible(call.grant.client.user).filter(first.search(params))[:2])
            if len(matches) > 1:
                raise FhirError(
                    412, "duplicate", _("More than one {type} matches If-None-Exist.").format(type=kind.name)
                )
            if matches:
                return _answer(call, kind, first, matches[0], 200)
        row = kind.create(call.actor, data)
    return _answer(call, kind, kinds.parts_of(kind)[0], row, 201)


def _answer(call: Call, kind: kinds.Kind, part: kinds.Kind, row: Any, status: int) -> HttpResponse:
    """One resource: ``row`` of ``kind``'s ``part`` (the kind itself for a type kept in one table)."""
    version = part.version_of(row)
    resource_id = part.id_of(row)
    headers = {"ETag": _etag(version), "Location": f"{call.base}/{kind.name}/{resource_id}/_history/{version}"}
    updated = part.updated_of(row)
    if updated is not None:
        headers["Last-Modified"] = updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    audit.record(
        call.actor, AuditAction.VIEW, part.audit_type, resource_id, patient_uuid=part.patient_of(row), detail="FHIR"
    )
    return respond(part.serve([row])[0], status, headers)


@endpoint
def instance_level(call: Call, resource_type: str, resource_id: str) -> HttpResponse:
    kind = _kind(resource_type)
    request = call.request
    if request.method == "GET":
        _allow(call, kind.name, "read")
        return _answer(call, kind, *_row(call, kind, resource_id), 200)
    if request.method == "PUT" and kind.update is not None:
        _may_write(call, kind, "update")
        data = _body(request, kind.name)
        if data.get("id") != resource_id:
            raise FhirError(400, "invalid", _("The resource's id must be the one in the URL."), f"{kind.name}.id")
        with transaction.atomic():
            _part, row = _row(call, kind, resource_id)  # a type clients update is kept in one table
            locked = type(row).objects.select_for_update(no_key=True).get(pk=row.pk)
            wanted = request.headers.get("If-Match")
            now = kind.version_of(locked)
            if wanted is not None and _version_asked(wanted) != str(now):
                raise FhirError(
                    412,
                    "conflict",
                    _("{type} {id} is at version {now}, not {asked}: read it again.").format(
                        type=kind.name, id=resource_id, now=now, asked=_version_asked(wanted)[:20]
                    ),
                )
            saved = kind.update(call.actor, data, locked)
        return _answer(call, kind, kind, saved, 200)
    raise FhirError(405, "not-supported", _("{method} is not supported here.").format(method=request.method))


@endpoint
def version_level(call: Call, resource_type: str, resource_id: str, version_id: str) -> HttpResponse:
    kind = _kind(resource_type)
    _allow(call, kind.name, "vread")
    part, row = _row(call, kind, resource_id)
    if version_id == str(part.version_of(row)):
        return _answer(call, kind, part, row, 200)
    kept = part.history(row) if part.history is not None else []
    earlier = next((old for old in kept if str(part.version_of(old)) == version_id), None)
    if earlier is None:
        raise FhirError(
            404,
            "not-found",
            _("Version {version} of {type} {id} is not kept; the current version is {now}.").format(
                version=version_id[:20], type=kind.name, id=resource_id, now=part.version_of(row)
            ),
        )
    return _answer(call, kind, part, earlier, 200)


@endpoint
def instance_history(call: Call, resource_type: str, resource_id: str) -> HttpResponse:
    """Every kept version of one resource, newest first, as a ``history`` Bundle (FHIR R4 section 3.1.0.9)."""
    kind = _kind(resource_type)
    if call.request.method != "GET":
        raise FhirError(405, "not-supported", _("{method} is not supported here.").format(method=call.request.method))
    _allow(call, kind.name, "read")
    part, row = _row(call, kind, resource_id)
    if part.history is None:
        raise FhirError(
            404, "not-supported", _("Kyphos keeps only the current version of {type}.").format(type=kind.name)
        )
    versions = [row, *part.history(row)]
    audit.record(
        call.actor,
        AuditAction.VIEW,
        part.audit_type,
        resource_id,
        patient_uuid=part.patient_of(row),
        detail=f"FHIR history ({len(versions)} versions)",
    )
    entries = []
    for version, resource in zip(versions, part.serve(versions), strict=True):
        number = part.version_of(version)
        entry: dict[str, Any] = {
            "fullUrl": f"{call.base}/{kind.name}/{resource_id}",
            "resource": resource,
            "request": {"method": "POST" if number == 1 else "PUT", "url": f"{kind.name}/{resource_id}"},
            "response": {"status": "201 Created" if number == 1 else "200 OK", "etag": _etag(number)},
        }
        updated = part.updated_of(version)
        if updated is not None:
            entry["response"]["lastModified"] = updated.isoformat()
        entries.append(entry)
    body = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{call.base}/{kind.name}/{resource_id}/_history"}],
        "entry": entries,
    }
    return respond(body)


def _export_kick_off(call: Call, level: str, group: str = "") -> HttpResponse:
    if call.request.method not in {"GET", "POST"}:
        raise FhirError(405, "not-supported", _("{method} is not supported here.").format(method=call.request.method))
    params = call.request.GET if call.request.method == "GET" else call.request.POST
    export = bulk.kick_off(
        call.grant.client,
        call.grant.scopes,
        level,
        group,
        params,
        call.request.build_absolute_uri(),
        call.request.headers.get("Prefer", ""),
    )
    audit.record(
        call.actor, AuditAction.CREATE, "fhir_export", export.uuid, detail=f"{level}: {','.join(export.types)}"[:200]
    )
    response = HttpResponse(status=202)
    response["Content-Location"] = f"{call.base}/$export-status/{export.uuid}"
    return response


@endpoint
def export_system(call: Call) -> HttpResponse:
    return _export_kick_off(call, "system")


@endpoint
def export_patients(call: Call) -> HttpResponse:
    return _export_kick_off(call, "patient")


@endpoint
def export_group(call: Call, group_id: str) -> HttpResponse:
    return _export_kick_off(call, "group", group_id)


def _export_of(call: Call, export_id: str) -> BulkExport:
    found = (
        BulkExport.objects.filter(uuid=export_id, client=call.grant.client).first()
        if search.is_uuid(export_id)
        else None
    )
    if found is None or found.status in {BulkExport.Status.CANCELLED, BulkExport.Status.EXPIRED}:
        raise FhirError(
            404, "not-found", _("No export {id} (cancelled, expired or never started).").format(id=export_id[:64])
        )
    return found


@endpoint
def export_status(call: Call, export_id: str) -> HttpResponse:
    export = _export_of(call, export_id)
    if call.request.method == "DELETE":
        bulk.cancel(export)
        audit.record(call.actor, AuditAction.UPDATE, "fhir_export", export.uuid, detail="cancelled")
        return HttpResponse(status=202)
    if call.request.method != "GET":
        raise FhirError(405, "not-supported", _("{method} is not supported here.").format(method=call.request.method))
    if export.status in bulk.ACTIVE:
        response = HttpResponse(status=202)
        response["X-Progress"] = bulk.progress(export)
        response["Retry-After"] = "2"
        return response
    if export.status == BulkExport.Status.FAILED:
        raise FhirError(500, "exception", _("The export failed; start it again."))
    response = JsonResponse(bulk.manifest(export, call.base))
    response["Expires"] = export.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT") if export.expires_at else ""
    return response


@endpoint
def export_file(call: Call, export_id: str, name: str) -> HttpResponseBase:
    export = _export_of(call, export_id)
    resource_type = name.removesuffix(".ndjson")
    path = bulk.file_of(export, resource_type)
    if export.status != BulkExport.Status.COMPLETE or resource_type not in export.types or not path.is_file():
        raise FhirError(404, "not-found", _("No such export file."))
    audit.record(call.actor, AuditAction.VIEW, "fhir_export", export.uuid, detail=f"file {resource_type}")
    return FileResponse(open(path, "rb"), content_type="application/fhir+ndjson")  # noqa: SIM115 - closed by Django


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """The SMART Backend Services token endpoint (RFC 6749 section 4.4 with RFC 7523 client authentication)."""
    if request.method != "POST":
        return JsonResponse({"error": "invalid_request", "error_description": _("Use POST.")}, status=405)
    try:
        form = {
            k: request.POST.get(k, "") for k in ("grant_type", "client_assertion_type", "client_assertion", "scope")
        }
        answer = clients.exchange(form, f"{base_url(request)}/auth/token", getattr(request, "client_addr", None))
        response = JsonResponse(answer)
    except clients.TokenRefused as exc:
        response = JsonResponse({"error": exc.error, "error_description": exc.description}, status=exc.status)
    except Exception:  # noqa: BLE001 - an OAuth error answer, the traceback in the log only
        log.exception("FHIR token request failed")
        response = JsonResponse(
            {"error": "server_error", "error_description": _("Kyphos could not issue a token.")}, status=500
        )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def smart_configuration(request: HttpRequest) -> HttpResponse:
    """SMART App Launch 2.0.0, "Conformance": what a backend client needs to get a token here."""
    base = base_url(request)
    return JsonResponse(
        {
            "token_endpoint": f"{base}/auth/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(clients.ALGORITHMS),
            "scopes_supported": [
                "system/*.cruds",
                "system/*.rs",
                *(f"system/{kind.name}.rs" for kind in resources.SERVED),
            ],
            "capabilities": ["client-confidential-asymmetric", "permission-v2"],
        }
    )


def _includes(kind: kinds.Kind) -> list[str]:
    return [f"{kind.name}:{p}" for p in kind.params if p in PATIENT_REFERENCES | set(kind.links)]


def _revincludes(kind: kinds.Kind) -> list[str]:
    if kind.name == "Patient":
        return [f"{other.name}:patient" for other in resources.SERVED if other.compartment is not None]
    return [
        f"{other.name}:{param}"
        for other in resources.SERVED
        for param, (target, _path) in other.links.items()
        if target == kind.name
    ]


def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: exactly what this server supports, nothing more."""
    base = base_url(request)
    served = [
        {
            "type": kind.name,
            "versioning": "versioned-update" if kind.update else "versioned",
            "readHistory": kind.history is not None,
            "updateCreate": False,
            "conditionalCreate": kind.create is not None,
            "interaction": [{"code": code} for code in kind.interactions],
            "searchInclude": _includes(kind),
            "searchRevInclude": _revincludes(kind),
            "searchParam": [{"name": name, "type": kind_of} for name, kind_of in kind.params.items()],
        }
        for kind in resources.SERVED
    ]
    body = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITIES_CHANGED,
        "kind": "instance",
        "software": {"name": "Kyphos"},
        "implementation": {"description": "Kyphos kyphoplasty pathway", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}],
                        }
                    ],
                },
                "resource": served,
                "operation": [
                    {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},
                    {
                        "name": "patient-export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                    },
                    {
                        "name": "group-export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                    },
                ],
            }
        ],
    }
    return respond(body)
