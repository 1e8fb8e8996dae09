"""Reads aftercare makes of earlier stages: the held medicines to restart, the follow-up visit, the stay.

Letters, views and services of aftercare read the call and the procedure through these named functions, never
through reverse accessors in templates, so each read is one place to index, prefetch and test.
"""

from __future__ import annotations

from datetime import timedelta

from kyphos.aftercare.models import Stay
from kyphos.pathway.models import Case
from kyphos.precall.models import CallStatus, Medication
from kyphos.scheduling.models import Visit


def restart_lines(case: Case) -> list[Medication]:
    """The medicines the signed call held, whose restart the going-home letter and the visit page show."""
    call = case.precalls.filter(status=CallStatus.SIGNED).first()
    return [m for m in call.medications.all() if m.hold] if call else []


def follow_up_visit(case: Case) -> Visit | None:
    """The booked follow-up visit, if any."""
    return Visit.objects.filter(case_uuid=case.uuid, status=Visit.Status.BOOKED).first()


def length_of_stay(case: Case) -> timedelta | None:
    """From arrival at admission to discharge from the ward; None until both are recorded."""
    admission = getattr(case, "admission", None)
    stay = Stay.objects.filter(case=case).first()
    if admission is None or stay is None or stay.discharged_at is None:
        return None
    return stay.discharged_at - admission.arrived_at
