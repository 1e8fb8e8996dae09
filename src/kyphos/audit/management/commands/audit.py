"""``kyphos audit verify [--json]``: check that the audit chain is whole.

Exit status 0 when every entry links to the one before it and its hash matches its content; 1 naming the first
entry that does not (its id, and whether its link or its content is wrong). The last line gives the count and the
head hash: keep it outside Kyphos (a ticket, the backup log) to notice if the newest entries were ever removed."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos.audit import chain
from kyphos.commands import KyphosCommand

BROKEN = 1


class Command(KyphosCommand):
    help = "Verify the audit chain (exit 0 when whole, 1 naming the first broken entry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--json", action="store_true", help="print the verdict as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = chain.verify()
        if options["json"]:
            broken = verdict.broken
            self.stdout.write(
                json.dumps(
                    {
                        "whole": verdict.whole,
                        "verified": verdict.count,
                        "head": verdict.head,
                        "first_broken": None if broken is None else {"id": broken.entry_id, "reason": broken.reason},
                    }
                )
            )
        elif verdict.broken is None:
            self.stdout.write(
                _("Audit chain whole: %(count)s entries, head %(head)s.")
                % {"count": verdict.count, "head": verdict.head}
            )
        else:
            message = (
                _("Audit chain BROKEN at entry %(id)s: it does not link to the entry before it (%(count)s verified).")
                if verdict.broken.reason == "link"
                else _("Audit chain BROKEN at entry %(id)s: its content was changed (%(count)s verified).")
            )
            self.stdout.write(message % {"id": verdict.broken.entry_id, "count": verdict.count})
        if not verdict.whole:
            sys.exit(BROKEN)
