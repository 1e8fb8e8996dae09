"""The interface settings in the admin: each site's HL7 settings and the systems Kyphos sends to."""

from __future__ import annotations

import socket

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kyphos.interop.models import Hl7Destination, SiteInterface


@admin.register(SiteInterface)
class SiteInterfaceAdmin(admin.ModelAdmin):
    list_display = ("site", "facilities", "kyphoplasty_services", "unhandled", "scheduler_of_record")


@admin.register(Hl7Destination)
class Hl7DestinationAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "host", "port", "sends_notes", "sends_charges", "sends_bookings", "active")
    list_filter = ("site", "active")
    actions = ["check_connection"]

    @admin.action(description=_("Check that the destination answers (opens a connection)"))
    def check_connection(self, request: HttpRequest, queryset: QuerySet[Hl7Destination]) -> None:
        for destination in queryset:
            try:
                with socket.create_connection(
                    (destination.host, destination.port), timeout=destination.timeout_seconds
                ):
                    pass
            except OSError as exc:
                self.message_user(
                    request,
                    _("%(name)s does not answer: %(why)s.") % {"name": destination.name, "why": type(exc).__name__},
                    messages.ERROR,
                )
            else:
                self.message_user(request, _("%(name)s answers.") % {"name": destination.name}, messages.SUCCESS)
