"""Form fields shared by every room's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

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


def use_our_words() -> None:
    """Replace Django's default form messages ("Ensure this value is less than or equal to 480.") with ours, for
    every form including the admin's. Called once at start-up, before any form class is defined (the root app comes
    first in INSTALLED_APPS). A field's own ``error_messages`` still win."""
    from django.forms import formsets, models

    forms.Field.default_error_messages = {
        "required": _("Fill this in."),
        # Validators' codes: a field's error_messages replace a validator's message with the same code.
        "max_value": _("Enter %(limit_value)s or less."),
        "min_value": _("Enter %(limit_value)s or more."),
        "max_length": ngettext_lazy(
            "Use at most %(limit_value)d character (this has %(show_value)d).",
            "Use at most %(limit_value)d characters (this has %(show_value)d).",
            "limit_value",
        ),
        "min_length": ngettext_lazy(
            "Use at least %(limit_value)d character (this has %(show_value)d).",
            "Use at least %(limit_value)d characters (this has %(show_value)d).",
            "limit_value",
        ),
        "null_characters_not_allowed": _("This field contains a character that is not allowed."),
        "max_digits": ngettext_lazy("Use at most %(max)s digit.", "Use at most %(max)s digits.", "max"),
        "max_decimal_places": ngettext_lazy(
            "Use at most %(max)s digit after the decimal point.",
            "Use at most %(max)s digits after the decimal point.",
            "max",
        ),
        "max_whole_digits": ngettext_lazy(
            "Use at most %(max)s digit before the decimal point.",
            "Use at most %(max)s digits before the decimal point.",
            "max",
        ),
        "step_size": _("Enter a multiple of %(limit_value)s."),
    }
    forms.BooleanField.default_error_messages = {"required": _("Tick this to go on.")}
    choose = _("Choose one of the options offered.")
    forms.ChoiceField.default_error_messages = {"required": _("Choose one."), "invalid_choice": choose}
    forms.MultipleChoiceField.default_error_messages = {
        "required": _("Choose at least one."),
        "invalid_choice": choose,
        "invalid_list": choose,
    }
    models.ModelChoiceField.default_error_messages = {"required": _("Choose one."), "invalid_choice": choose}
    models.ModelMultipleChoiceField.default_error_messages = {
        "required": _("Choose at least one."),
        "invalid_list": choose,
        "invalid_choice": choose,
        "invalid_pk_value": choose,
    }
    forms.IntegerField.default_error_messages = {"invalid": _("Write a whole number, in digits.")}
    number = _("Write a number, in digits (a point before any decimals).")
    forms.DecimalField.default_error_messages = {"invalid": number}
    forms.FloatField.default_error_messages = {"invalid": number}
    forms.DateField.default_error_messages = {"invalid": _("Enter the date as YYYY-MM-DD.")}
    forms.TimeField.default_error_messages = {"invalid": _("Enter the time as HH:MM.")}
    forms.DateTimeField.default_error_messages = {"invalid": _("Enter the date and time as YYYY-MM-DD HH:MM.")}
    forms.EmailField.default_error_messages = {"invalid": _("Enter an email address, such as name@hospital.org.")}
    forms.UUIDField.default_error_messages = {"invalid": _("This is not a valid reference; go back and try again.")}
    forms.JSONField.default_error_messages = {"invalid": _("This is not valid JSON.")}
    forms.FileField.default_error_messages = {
        "invalid": _("No file arrived; choose the file again."),
        "missing": _("No file arrived; choose the file again."),
        "empty": _("The file is empty."),
        "max_length": ngettext_lazy(
            "Shorten the file name to %(max)d character (it has %(length)d).",
            "Shorten the file name to %(max)d characters (it has %(length)d).",
            "max",
        ),
        "contradiction": _("Either choose a file or tick the box to clear it, not both."),
    }
    formsets.BaseFormSet.default_error_messages = {
        "missing_management_form": _("The form was incomplete when it arrived; reload the page and try again."),
        "too_many_forms": ngettext_lazy("Send at most %(num)d row.", "Send at most %(num)d rows.", "num"),
        "too_few_forms": ngettext_lazy("Send at least %(num)d row.", "Send at least %(num)d rows.", "num"),
    }


def between(low: Any, high: Any) -> dict[str, Any]:
    """A number field's bounds with one message for both ends ("Enter a number from 0 to 10.")."""
    message = format_lazy(_("Enter a number from {low} to {high}."), low=low, high=high)
    return {"min_value": low, "max_value": high, "error_messages": {"min_value": message, "max_value": message}}
