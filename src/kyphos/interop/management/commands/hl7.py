"""``kyphos hl7 messages [--status S] [--since T] [--limit N] [--json]`` and ``kyphos hl7 replay ID``.

``messages`` prints the stored HL7 messages, newest first: direction, sender, control id, type, status, ACK code,
and the patient and case a message was matched to (their identifiers, never names). ``replay`` processes a message
that ended in an error again, once its cause is fixed."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.commands import KyphosCommand, bounded_int, local_time
from kyphos.errors import InvalidInput
from kyphos.interop.hl7v2 import inbound, outbound
from kyphos.interop.models import Hl7Message
from kyphos.when import zone_of


class Command(KyphosCommand):
    help = "List stored HL7 messages, or replay one that ended in an error."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("messages", help="the stored messages, newest first")
        listing.add_argument("--status", choices=Hl7Message.Status.values)
        listing.add_argument("--since", help="from this time (YYYY-MM-DDTHH:MM, the staff's zone)")
        listing.add_argument("--limit", type=bounded_int(1, 100000, "limit"), default=100)
        listing.add_argument("--json", action="store_true")
        again = sub.add_parser("replay", help="process a message that ended in an error again")
        again.add_argument("id", type=bounded_int(1, 2**62, "message id"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "replay":
            row = Hl7Message.objects.filter(pk=options["id"]).first()
            if row is None:
                raise InvalidInput(_("There is no HL7 message %(id)s.") % {"id": options["id"]})
            actor = Actor.system("kyphos hl7 replay")
            if row.direction == Hl7Message.Direction.OUTBOUND:
                done = outbound.resend(actor, row)
            else:
                done = inbound.replay(row)
                audit.record(
                    actor, AuditAction.UPDATE, "hl7_message", row.pk, patient_uuid=done.patient_uuid, detail="replayed"
                )
            self.stdout.write(_("Message %(id)s replayed: %(status)s.") % {"id": done.pk, "status": done.status})
            return
        rows = Hl7Message.objects.select_related("destination").order_by("-at", "-id")
        if options["status"]:
            rows = rows.filter(status=options["status"])
        if options["since"]:
            rows = rows.filter(at__gte=local_time(options["since"], zone_of(None), "time"))
        found: list[dict[str, Any]] = [
            {
                "id": r.pk,
                "at": r.at.isoformat(),
                "direction": r.direction,
                "sending_application": r.sending_application,
                "sending_facility": r.sending_facility,
                "receiving_application": r.receiving_application,
                "destination": r.destination.name if r.destination else None,
                "control_id": r.control_id,
                "type": r.message_type,
                "version": r.version,
                "status": r.status,
                "ack_code": r.ack_code,
                "error": r.error,
                "error_location": r.error_location,
                "repeats": r.repeats,
                "note": r.note,
                "attempts": r.attempts,
                "patient": str(r.patient_uuid) if r.patient_uuid else None,
                "case": str(r.case_uuid) if r.case_uuid else None,
            }
            for r in rows.defer("raw", "ack")[: options["limit"]]
        ]
        audit.record(
            Actor.system("kyphos hl7 messages"),
            AuditAction.LIST,
            "hl7_message",
            "",
            detail=f"hl7 messages status={options['status'] or ''} since={options['since'] or ''} n={len(found)}",
        )
        if options["json"]:
            self.stdout.write(json.dumps(found, indent=1))
            return
        for r in found:
            self.stdout.write(
                f"{r['id']:>7} {r['at'][:19]} {r['direction']:<3} {r['sending_application'][:12]:<12} "
                f"{r['control_id'][:20]:<20} {r['type']:<8} {r['status']:<15} {r['ack_code']:<2} {r['error'][:60]}"
            )
