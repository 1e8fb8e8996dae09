"""``kyphos api-client create NAME --scopes "system/Patient.rs" [--role R] [--site CODE] [--jwks FILE]``,
``kyphos api-client token NAME [--days N]``, ``kyphos api-client list`` and ``kyphos api-client disable NAME``.

A client is a system that uses the FHIR API. It acts through its own service account: ``--role`` (repeatable) says
what it may change as for staff, ``--site`` (repeatable) whose patients it sees (none: every site). ``--jwks`` is a
file with its public keys (a JWKS) for SMART Backend Services; ``token`` prints a bearer token for a script, once
(only its digest is kept)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.commands import KyphosCommand, bounded_int
from kyphos.errors import InvalidInput
from kyphos.interop.fhir import clients
from kyphos.interop.models import ApiClient, ApiToken


class Command(KyphosCommand):
    help = "Register FHIR API clients and issue their tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register a client")
        create.add_argument("name")
        create.add_argument("--scopes", required=True, help='SMART v2 system scopes, e.g. "system/Patient.rs"')
        create.add_argument("--role", action="append", default=[], help="a role, as for staff (repeatable)")
        create.add_argument("--site", action="append", default=[], help="a site code (repeatable; none: all)")
        create.add_argument("--jwks", help="a file with the client's public keys (JWKS)")
        issue = sub.add_parser("token", help="print a bearer token for a script, once")
        issue.add_argument("name")
        issue.add_argument("--days", type=bounded_int(1, 366, "days"), default=90)
        sub.add_parser("list", help="the registered clients")
        disable = sub.add_parser("disable", help="stop a client: its tokens stop working at once")
        disable.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("kyphos api-client")
        action = options["action"]
        if action == "create":
            jwks: dict[str, Any] = {"keys": []}
            if options["jwks"]:
                try:
                    jwks = json.loads(Path(options["jwks"]).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise InvalidInput(_("Cannot read the key set: {why}").format(why=exc)) from None
            client = clients.create_client(
                actor, options["name"], options["scopes"], options["role"], options["site"], jwks
            )
            self.stdout.write(
                _("Client {name} registered with {scopes}.").format(name=client.name, scopes=client.scopes)
            )
            return
        if action == "list":
            for each in ApiClient.objects.order_by("name"):
                state = _("active") if each.active else _("disabled")
                self.stdout.write(f"{each.name}\t{state}\t{each.scopes}")
            return
        found = ApiClient.objects.filter(name=options["name"]).first()
        if found is None:
            raise InvalidInput(_("No client named {name}.").format(name=options["name"]))
        client = found
        if action == "token":
            if not client.active:
                raise InvalidInput(_("Client {name} is disabled.").format(name=client.name))
            self.stdout.write(clients.issue_script_token(actor, client, options["days"]))
            return
        client.active = False
        client.save(update_fields=["active"])
        ApiToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=clock.current())
        audit.record(actor, AuditAction.UPDATE, "api_client", client.pk, detail="disabled")
        self.stdout.write(_("Client {name} disabled.").format(name=client.name))
