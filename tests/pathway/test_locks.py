"""Row locks and the audit chain's lock never wait on each other in a circle (PostgreSQL; SQLite lets one writer in
at a time). Found by `make scale-test`: a nurse's transaction held a case while a lab result's transaction, which
had added a row referring to that case and appended to the audit chain, checked its foreign key at commit; each
then waited for the other's lock until PostgreSQL broke the deadlock with an error the user saw."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from kyphos.audit import services as audit
from kyphos.audit.models import AuditAction
from kyphos.pathway import kernel
from kyphos.pathway.models import EventKind


def test_a_row_that_refers_to_a_held_case_does_not_wait_for_it(
    transactional_db: Any, make_case: Any, actors: dict[str, Any]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; this runs in the PostgreSQL pass of make test")
    case = make_case("referred")
    held, written = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def nurse() -> None:
        """Holds the case, waits (a while) for the other writer to finish, then appends to the audit chain."""
        try:
            with transaction.atomic():
                kernel.lock_case(case, None)
                held.set()
                seen["other_finished_first"] = written.wait(timeout=5)
                audit.record(actors["nurse"], AuditAction.UPDATE, "case", case.uuid, patient_uuid=case.patient.uuid)
        except Exception as exc:  # noqa: BLE001 - reported below
            seen["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=nurse)
    thread.start()
    assert held.wait(timeout=10)
    # The lab feed: a line on the case's timeline and its audit entry, without taking the case itself.
    with transaction.atomic():
        kernel.record_event(actors["scheduler"], case, EventKind.NOTE, "INR filed while the case was open elsewhere")
        audit.record(actors["scheduler"], AuditAction.CREATE, "lab_result", "1", patient_uuid=case.patient.uuid)
    written.set()
    thread.join(timeout=30)
    assert "error" not in seen, seen.get("error")
    assert seen["other_finished_first"] is True  # it did not wait for the nurse's transaction
    assert case.events.filter(summary__startswith="INR filed").exists()
