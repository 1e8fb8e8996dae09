from io import BytesIO
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from kyphos.scheduling.models import Holiday, Room, Site

LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2000


def read_logo(upload: Any) -> tuple[bytes, str]:
    """An uploaded logo as (bytes, content type), or a ValidationError naming what is wrong with it."""
    raw = upload.read(LOGO_MAX_BYTES + 1)
    if len(raw) > LOGO_MAX_BYTES:
        raise forms.ValidationError(_("The logo is larger than 512 KB; upload a smaller image."))
    try:
        with Image.open(BytesIO(raw)) as image:
            image.verify()
            kind, size = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise forms.ValidationError(_("This file is not a PNG or JPEG image.")) from exc
    if kind not in LOGO_TYPES:
        raise forms.ValidationError(_("This file is not a PNG or JPEG image."))
    if max(size) > LOGO_MAX_SIDE:
        raise forms.ValidationError(_("The logo is larger than 2000 pixels on a side."))
    return raw, LOGO_TYPES[kind]


class SiteForm(forms.ModelForm):
    logo_upload = forms.FileField(
        label=_("Letterhead logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 512 KB; printed at the top of every letter and note."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = Site
        # Every field a person edits (the logo itself comes from logo_upload).
        fields = [
            f.name
            for f in Site._meta.get_fields()
            if getattr(f, "editable", False) and f.concrete and not f.auto_created
        ]

    def clean_logo_upload(self) -> Any:
        upload = self.cleaned_data.get("logo_upload")
        if upload:
            self.cleaned_data["logo_read"] = read_logo(upload)
        return upload


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


class RoomInline(admin.TabularInline):
    model = Room
    extra = 1


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ("code", "name", "kind", "time_zone", "phone", "active")
    inlines = [RoomInline, HolidayInline]
    filter_horizontal = ("staff",)

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        if form.cleaned_data.get("remove_logo"):
            obj.logo, obj.logo_type = b"", ""
        elif form.cleaned_data.get("logo_read"):
            obj.logo, obj.logo_type = form.cleaned_data["logo_read"]
        super().save_model(request, obj, form, change)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("site", "date", "name")
    list_filter = ("site",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("site", "name", "active")
