"""FHIR Bulk Data export (Bulk Data Access IG 2.0.0, "Export"): ``$export`` at system, Patient and Group level.

The kick-off stores the request and answers 202 with the status URL. The worker writes the NDJSON files a slice
at a time (``KYPHOS_FHIR_EXPORT_SLICE`` resources), keyset by row, so memory stays bounded whatever the size and
a worker stopped mid-way resumes where the last slice ended (a file is cut back to the size recorded with that
slice before more is appended, so nothing is written twice). The files are read as the client's own service
account would read them (its sites and scopes), each slice audited, and removed ``KYPHOS_FHIR_EXPORT_HOURS``
after completion. A Group is a site: ``Group/<site code>/$export`` exports the patients with a case there, and
``Group/<site code>.<first day>.<last day>/$export`` (``HOSP.2026-01-01.2026-12-31``) the registry's group: the
patients treated there in that period (a procedure started on those days, in the site's time zone).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.interop.fhir import kinds, resources, scopes
from kyphos.interop.fhir.outcome import FhirError
from kyphos.interop.models import ApiClient, BulkExport
from kyphos.pathway.models import Case
from kyphos.patients.models import Patient
from kyphos.scheduling.models import Site

log = logging.getLogger("kyphos.fhir")
FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
LEASE = timedelta(minutes=2)
ACTIVE = (BulkExport.Status.ACCEPTED, BulkExport.Status.RUNNING)
TREATED_IN = re.compile(r"^(?P<site>[^.]+)\.(?P<start>\d{4}-\d{2}-\d{2})\.(?P<end>\d{4}-\d{2}-\d{2})$")


def parse_group(group: str) -> tuple[Site, tuple[date, date] | None]:
    """A Group id: a site's code, or a site's code and a period (the registry's group); FhirError if there is
    no such site or the period makes no sense."""
    found = TREATED_IN.match(group)
    code = found["site"] if found else group
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise FhirError(404, "not-found", _("No Group {id}: a group is a site's code.").format(id=group[:64]))
    if found is None:
        return site, None
    wrong = FhirError(
        400, "invalid", _("A registry group is SITE.first-day.last-day, the first day not after the last.")
    )
    try:
        start, end = date.fromisoformat(found["start"]), date.fromisoformat(found["end"])
    except ValueError:
        raise wrong from None
    if start > end:
        raise wrong
    return site, (start, end)


def export_dir() -> Path:
    return Path(getattr(settings, "KYPHOS_FHIR_EXPORT_DIR", Path(settings.VAR_DIR) / "exports"))


def slice_size() -> int:
    return int(getattr(settings, "KYPHOS_FHIR_EXPORT_SLICE", 5000))


def keep_hours() -> int:
    return int(getattr(settings, "KYPHOS_FHIR_EXPORT_HOURS", 24))


def file_of(export: BulkExport, resource_type: str) -> Path:
    return export_dir() / str(export.uuid) / f"{resource_type}.ndjson"


def kick_off(
    client: ApiClient,
    granted: list[scopes.Scope],
    level: str,
    group: str,
    params: QueryDict,
    request_url: str,
    prefer: str,
) -> BulkExport:
    """Check an export request and store it; 400 with the reason for one Kyphos cannot run."""
    if "respond-async" not in prefer:
        raise FhirError(400, "invalid", _("A bulk export needs the header Prefer: respond-async."))
    output = params.get("_outputFormat", "application/fhir+ndjson")
    if output not in FORMATS:
        raise FhirError(400, "not-supported", _("Only NDJSON output (application/fhir+ndjson) is offered."))
    if level == "group":
        parse_group(group)
    offered = [kind for kind in resources.SERVED if level == "system" or kind.compartment is not None]
    names = [t for value in params.getlist("_type") for t in value.split(",") if t]
    known = {kind.name for kind in offered}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise FhirError(
            400, "not-supported", _("Kyphos cannot export {type} at this level.").format(type=unknown[0][:40]), "_type"
        )
    wanted = names or [kind.name for kind in offered]
    types = [name for name in wanted if scopes.allows(granted, name, "read")]
    if names and len(types) < len(names):
        raise FhirError(403, "forbidden", _("The token's scopes do not allow reading every type asked for."))
    if not types:
        raise FhirError(403, "forbidden", _("The token's scopes allow no type to export."))
    since = None
    since_text = str(params.get("_since", ""))
    if since_text:
        since = parse_datetime(since_text)
        if since is None or since.tzinfo is None:
            raise FhirError(400, "invalid", _("_since must be a FHIR instant, with its offset."), "_since")
    filters: dict[str, list[str]] = {}
    for value in params.getlist("_typeFilter"):
        for item in value.split(","):
            resource_type, _q, query = item.partition("?")
            if resource_type not in types or not query:
                raise FhirError(
                    400, "invalid", _("_typeFilter must be Type?search for a type exported."), "_typeFilter"
                )
            for part in kinds.parts_of(kinds.REGISTRY[resource_type]):
                part.search(QueryDict(query))  # refuses a search it cannot run, now
            filters.setdefault(resource_type, []).append(query)
    return BulkExport.objects.create(
        client=client,
        request_url=request_url[:2000],
        level=level,
        group=group,
        types=types,
        since=since,
        type_filters=filters,
        transaction_time=clock.current(),
        state={"index": 0, "after": None, "sizes": {}, "counts": {}},
    )


def _patients(export: BulkExport) -> QuerySet[Patient]:
    patients = kinds.REGISTRY["Patient"].visible(export.client.user)
    if export.level == "group":
        site, period = parse_group(export.group)
        cases = Case.objects.filter(site=site)
        if period is not None:  # the registry's group: treated there in the period, days in the site's zone
            zone = site.zone
            low = datetime.combine(period[0], time.min, zone)
            high = datetime.combine(period[1] + timedelta(days=1), time.min, zone)
            cases = cases.filter(procedure__started_at__gte=low, procedure__started_at__lt=high)
        patients = patients.filter(pk__in=cases.values("patient_id"))
    return patients


def units(export: BulkExport) -> list[tuple[str, kinds.Kind]]:
    """What the export writes, in order: (file key, table) — every part of every type asked for, a type kept in
    several tables appending each part to the same file."""
    found = []
    for name in export.types:
        parts = kinds.parts_of(kinds.REGISTRY[name])
        found += [(name if len(parts) == 1 else f"{name}#{index}", part) for index, part in enumerate(parts)]
    return found


def rows_of(export: BulkExport, kind: kinds.Kind) -> QuerySet[Any]:
    """The rows of one part (one table) of a type that the export writes."""
    rows = kind.visible(export.client.user)
    if export.level != "system":
        if kind.compartment is None:
            return rows.none()  # rows outside the patient compartment go in system exports only
        rows = kind.compartment(rows, _patients(export))
    if export.since is not None and kind.since_field:
        rows = rows.filter(**{f"{kind.since_field}__gt": export.since})
    for query in export.type_filters.get(kind.name, []):
        rows = rows.filter(kind.search(QueryDict(query)))
    return rows.order_by("pk")


def claim(worker: str) -> BulkExport | None:
    """One export to work on: waiting, or running under a lease that ran out (its worker died)."""
    now = clock.current()
    with transaction.atomic():
        found = (
            BulkExport.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(status__in=ACTIVE)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
            .order_by("id")
            .first()
        )
        if found is None:
            return None
        found.claimed_at, found.claimed_by, found.status = now, worker[:64], BulkExport.Status.RUNNING
        found.save(update_fields=["claimed_at", "claimed_by", "status"])
    return found


def _write(path: Path, size: int, lines: list[bytes]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as out:
        out.truncate(size)  # what a slice wrote before its state was saved is written again, not twice
        out.seek(size)
        for line in lines:
            out.write(line)
        out.flush()
        os.fsync(out.fileno())
        return out.tell()


def run_slice(export: BulkExport) -> None:
    """Write the next slice of ``export`` and record where it stands."""
    state = dict(export.state)
    todo = units(export)
    index, after = int(state.get("index", 0)), state.get("after")
    sizes: dict[str, int] = dict(state.get("sizes", {}))
    counts: dict[str, int] = dict(state.get("counts", {}))
    until: dict[str, int] = dict(state.get("until", {}))
    budget = slice_size()
    actor = Actor(user=export.client.user, client_addr=None)
    while budget > 0 and index < len(todo):
        key, kind = todo[index]
        rows = rows_of(export, kind)
        if key not in until:  # the rows there are when this part begins: an export never chases its own
            # audit entries (exporting AuditEvent writes more of them) or a feed writing faster than it reads
            until[key] = rows.aggregate(last=Max("pk"))["last"] or 0
        rows = rows.filter(pk__lte=until[key])
        if after is not None:
            rows = rows.filter(pk__gt=after)
        asked = min(budget, 1000)
        batch = list(rows[:asked])
        if batch:
            lines = [
                json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                for resource in kind.serve(batch)
            ]
            sizes[kind.name] = _write(file_of(export, kind.name), sizes.get(kind.name, 0), lines)
            counts[kind.name] = counts.get(kind.name, 0) + len(batch)
            audit.record_list(
                actor, kind.audit_type, [(kind.id_of(r), kind.patient_of(r)) for r in batch], detail="FHIR export"
            )
            after, budget = batch[-1].pk, budget - len(batch)
        if len(batch) < asked:  # this part is written out
            index, after = index + 1, None
    state.update(index=index, after=after, sizes=sizes, counts=counts, until=until)
    with transaction.atomic():
        current = BulkExport.objects.select_for_update(no_key=True).get(pk=export.pk)
        if current.status not in ACTIVE:
            return  # cancelled meanwhile: its files are gone with it
        current.state, current.claimed_at = state, None
        if index >= len(todo):
            current.status, current.finished_at = BulkExport.Status.COMPLETE, clock.current()
            current.expires_at = current.finished_at + timedelta(hours=keep_hours())
        current.save(update_fields=["state", "claimed_at", "status", "finished_at", "expires_at"])


def work(worker: str) -> bool:
    """The worker's turn: one slice of one export; True when there was one."""
    export = claim(worker)
    if export is None:
        return False
    try:
        run_slice(export)
    except Exception as exc:  # noqa: BLE001 - the client sees a failed export, the log the traceback (no data)
        log.exception("FHIR export %s failed", export.pk)
        BulkExport.objects.filter(pk=export.pk, status__in=ACTIVE).update(
            status=BulkExport.Status.FAILED, error=type(exc).__name__, claimed_at=None, finished_at=clock.current()
        )
    return True


def cancel(export: BulkExport) -> None:
    with transaction.atomic():
        BulkExport.objects.filter(pk=export.pk).update(status=BulkExport.Status.CANCELLED, finished_at=clock.current())
    shutil.rmtree(export_dir() / str(export.uuid), ignore_errors=True)


def expire() -> int:
    """The periodic job: remove the files of exports past their time."""
    gone = list(BulkExport.objects.filter(expires_at__lt=clock.current(), status=BulkExport.Status.COMPLETE))
    for export in gone:
        shutil.rmtree(export_dir() / str(export.uuid), ignore_errors=True)
    BulkExport.objects.filter(pk__in=[e.pk for e in gone]).update(status=BulkExport.Status.EXPIRED)
    return len(gone)


def manifest(export: BulkExport, base: str) -> dict[str, Any]:
    counts: dict[str, int] = export.state.get("counts", {})
    return {
        "transactionTime": export.transaction_time.isoformat(),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": name, "url": f"{base}/$export-file/{export.uuid}/{name}.ndjson", "count": counts[name]}
            for name in export.types
            if counts.get(name)
        ],
        "error": [],
    }


def progress(export: BulkExport) -> str:
    state = export.state
    written = sum(int(n) for n in state.get("counts", {}).values())
    todo, index = units(export), int(state.get("index", 0))
    finished = {key.partition("#")[0] for key, _part in todo[:index]}
    left = {key.partition("#")[0] for key, _part in todo[index:]}
    done = len(finished - left)
    return f"{done} of {len(export.types)} types, {written} resources"
