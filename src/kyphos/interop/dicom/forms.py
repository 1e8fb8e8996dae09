"""The forms of the outside-imaging pages: a CD upload, a decision on an import, a report or films received."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kyphos.precall.models import DocumentKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class DiscForm(forms.Form):
    """A ZIP of the CD, or the CD's folder (every file, each with its path inside the folder in ``paths``)."""

    disc = forms.FileField(
        label=_("A ZIP of the CD"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    folder = forms.FileField(
        label=_("Or the CD's folder"),
        required=False,
        help_text=_("Choose the CD itself (or the folder it was copied to): every file on it is read."),
        widget=MultipleFileInput(attrs={"webkitdirectory": True, "directory": True}),
    )
    paths = forms.CharField(required=False, widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        help_text=_("Why these images are (or are not) this patient's: kept with the decision."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("What was received"), choices=DocumentKind.choices)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("For example: MRI lumbar spine report, 3 March, City Hospital."),
    )
    upload = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        required=False,
        help_text=_("Not needed for films: they are only marked as received."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )
