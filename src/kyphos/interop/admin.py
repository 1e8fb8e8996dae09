"""The interface settings in the admin: each site's HL7 settings and the systems Kyphos sends to, the FHIR API's
clients and the Bulk Data exports."""

from __future__ import annotations

import socket

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.interop.dicom import store
from kyphos.interop.models import ApiClient, ApiToken, BulkExport, Hl7Destination, SiteInterface

# Why a C-ECHO failed (interop.dicom.store.echo), in words for the administrator.
ECHO_FAILURES = {
    "rejected": _("it refused the association (check the AE titles, and that it knows Kyphos's)"),
    "unreachable": _("nothing answers at that host and port"),
    "error": _("it answered the C-ECHO with an error status"),
}


@admin.register(SiteInterface)
class SiteInterfaceAdmin(admin.ModelAdmin):
    list_display = ("site", "facilities", "scheduler_of_record", "pacs_ae_title", "pacs_host", "pacs_port")
    actions = ["check_pacs"]

    @admin.action(description=_("Check that the PACS answers (DICOM C-ECHO)"))
    def check_pacs(self, request: HttpRequest, queryset: QuerySet[SiteInterface]) -> None:
        for interface in queryset.select_related("site"):
            if not interface.has_pacs:
                self.message_user(
                    request,
                    _("%(site)s has no PACS: its outside imaging is kept by Kyphos.") % {"site": interface.site.code},
                    messages.WARNING,
                )
                continue
            destination = store.Destination(
                interface.pacs_ae_title,
                interface.pacs_host,
                int(interface.pacs_port or 0),
                interface.calling_ae_title,
                timeout=10,
            )
            why = store.echo(destination)
            if why:
                self.message_user(
                    request,
                    _("The PACS of %(site)s does not answer: %(why)s.")
                    % {"site": interface.site.code, "why": ECHO_FAILURES.get(why, why)},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, _("The PACS of %(site)s answers.") % {"site": interface.site.code}, messages.SUCCESS
                )


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


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """FHIR API clients: registered with ``kyphos api-client create``; here an administrator sees them, changes
    their scopes or key set, or disables one (its tokens stop working at once)."""

    list_display = ("name", "scopes", "active", "created_at")
    list_filter = ("active",)
    readonly_fields = ("name", "user", "created_at")
    actions = ["disable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a client needs its service account: `kyphos api-client create`

    @admin.action(description=_("Disable: every token of the client stops working"))
    def disable(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        now = clock.current()
        for client in queryset:
            client.active = False
            client.save(update_fields=["active"])
            ApiToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
            audit.record(Actor.from_request(request), AuditAction.UPDATE, "api_client", client.pk, detail="disabled")
        self.message_user(request, _("Disabled."), messages.SUCCESS)


@admin.register(BulkExport)
class BulkExportAdmin(admin.ModelAdmin):
    """The Bulk Data exports clients asked for, as the worker sees them (no patient data: types and counts)."""

    list_display = ("uuid", "client", "level", "group", "status", "transaction_time", "finished_at", "expires_at")
    list_filter = ("status", "level")
    readonly_fields = [f.name for f in BulkExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
