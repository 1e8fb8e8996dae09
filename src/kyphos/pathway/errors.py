"""Errors a pathway service raises; views turn each into a clear message and change nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from kyphos.errors import Conflict, Forbidden, Refused
from kyphos.rules.findings import Finding


class StaleEdit(Conflict):
    """Someone else changed the case after this form was drawn."""

    def __init__(self, who: str = "") -> None:
        text = "This case was changed by someone else"
        text += f" ({who})" if who else ""
        text += " after you opened it. Nothing was saved: review the latest version and try again."
        super().__init__(text, code="stale-version")


class GuardBlocked(Refused):
    """A stop finding blocks the move and no permitted override was given."""

    def __init__(self, findings: list[Finding], message: str) -> None:
        super().__init__(message, code="stop-finding")
        self.findings = findings


class NotPermitted(Forbidden, PermissionDenied):
    """The acting user's roles do not allow this."""
