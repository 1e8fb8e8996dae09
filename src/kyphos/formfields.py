"""Form fields shared by every room's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from kyphos.errors import KyphosError


def no_nul(value: str) -> str:
    # PostgreSQL refuses NUL bytes in text: refuse them at the edge with a message, not a server error.
    if "\x00" in value:
        raise ValidationError(_("This field contains a character that is not allowed."))
    return value


class CleanText(forms.CharField):
    """A CharField that refuses NUL characters."""

    def to_python(self, value: Any) -> str:
        return no_nul(super().to_python(value) or "")


# Everything a service raises that a person can act on: shown on the page, never a server error.
REFUSALS = (KyphosError, ValidationError, PermissionDenied)


def put_errors(form: Any, exc: Exception, aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: next to its field when the form has one, else at the top.

    ``aliases`` maps a service's field name to the form's (a referral's "levels" → the first level row).
    """
    aliases = aliases or {}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            target = aliases.get(key, key)
            for error in errors:
                message = error.message % error.params if error.params else error.message
                form.add_error(target if target in form.fields else None, message)
    elif isinstance(exc, KyphosError):
        field = aliases.get(exc.field, exc.field) if exc.field else None
        form.add_error(field if field in form.fields else None, exc.message)
    else:
        for message in getattr(exc, "messages", None) or [str(exc)]:
            form.add_error(None, message)


def refusal_text(exc: Exception) -> str:
    """A refusal as one message for the top of a page (a service's ValidationError may hold several)."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
