"""The user admin, with the administrator's way to reset a lost second factor (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyphos.audit.actor import Actor
from kyphos.web import second_factor

admin.site.unregister(User)


@admin.register(User)
class KyphosUserAdmin(UserAdmin):
    actions = ["reset_second_factor"]

    @admin.action(description=gettext_lazy("Reset the second factor (a lost phone: set up again at next sign-in)"))
    def reset_second_factor(self, request: HttpRequest, queryset: Any) -> None:
        actor = Actor.from_request(request)
        for user in queryset:
            second_factor.reset(actor, user)
        messages.success(
            request,
            _("Second factor reset for %(count)s users; they set it up again at their next sign-in.")
            % {"count": queryset.count()},
        )
