"""Every browser journey also checks the log: each line the server writes while the journey runs is kept, and the
journey fails when one holds a patient's name, MRN, phone, e-mail, date of birth or link token."""

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from kyphos.messaging import links
from kyphos.messaging.models import PatientLink
from kyphos.patients.models import Patient


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # What the console handler would write: its filters (the patient-link redaction) first.
        console = next((h for h in logging.getLogger().handlers if h.get_name() == "console"), None)
        if console is not None and not console.filter(record):
            return
        self.lines.append(record.getMessage() + (self.format(record) if record.exc_info else ""))


def secrets_of_patients() -> set[str]:
    found: set[str] = set()
    for p in Patient.objects.all():
        found |= {p.family_name, p.mrn, p.phone_mobile, p.phone_home, p.email, p.date_of_birth.isoformat()}
        found.add(f"{p.date_of_birth:%d-%b-%Y}")
    found |= {links.token_for(link) for link in PatientLink.objects.all()}
    return {text for text in found if text and len(text) >= 4}


@pytest.fixture(autouse=True)
def _no_patient_data_in_the_log(live_server: Any, transactional_db: Any) -> Iterator[None]:
    kept = Kept()
    root = logging.getLogger()
    root.addHandler(kept)
    try:
        yield
    finally:
        root.removeHandler(kept)
    leaked = {secret for secret in secrets_of_patients() for line in kept.lines if secret in line}
    assert not leaked, f"patient data in {len(kept.lines)} log lines: {sorted(leaked)[:5]}"
