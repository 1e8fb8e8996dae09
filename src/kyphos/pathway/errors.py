"""Errors a pathway service raises; views turn each into a clear message and change nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.errors import Conflict, Forbidden, Refused
from kyphos.rules.findings import Finding


class StaleEdit(Conflict):
    """Someone else changed the case after this form was drawn."""

    def __init__(self, who: str = "") -> None:
        if who:
            text = format_lazy(
                _(
                    "This case was changed by someone else ({who}) after you opened it. Nothing was saved: review "
                    "the latest version and try again."
                ),
                who=who,
            )
        else:
            text = _(
                "This case was changed by someone else after you opened it. Nothing was saved: review the latest "
                "version and try again."
            )
        super().__init__(text, code="stale-version")


class GuardBlocked(Refused):
    """A stop finding blocks the move and no permitted override was given."""

    def __init__(self, findings: list[Finding], message: object) -> None:
        super().__init__(message, code="stop-finding")
        self.findings = findings


class NotPermitted(Forbidden, PermissionDenied):
    """The acting user's roles do not allow this."""
