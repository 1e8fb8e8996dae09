"""Form fields shared by every room's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def no_nul(value: str) -> str:
    # PostgreSQL refuses NUL bytes in text: refuse them at the edge with a message, not a server error.
    if "\x00" in value:
        raise ValidationError("This field contains a character that is not allowed.")
    return value


class CleanText(forms.CharField):
    """A CharField that refuses NUL characters."""

    def to_python(self, value: Any) -> str:
        return no_nul(super().to_python(value) or "")
