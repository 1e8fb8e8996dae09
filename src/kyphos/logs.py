"""What reaches the log: never a patient link's token (a failed request on a patient page names its path)."""

from __future__ import annotations

import logging
import re

# /p/<token>/… : the token opens a patient's pages, so it is a secret wherever it appears.
PATIENT_LINK = re.compile(r"/p/[^/\s\"']+")


class RedactPatientLinks(logging.Filter):
    """Rewrite a record's message with every patient-link token replaced, before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/p/" in message:
            record.msg, record.args = PATIENT_LINK.sub("/p/[link]", message), None
        return True
