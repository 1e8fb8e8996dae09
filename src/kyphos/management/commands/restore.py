"""``kyphos restore FILE``: put a backup into an empty database, then verify the audit chain it holds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos import backups
from kyphos.audit import chain
from kyphos.commands import KyphosCommand

BROKEN = 1


class Command(KyphosCommand):
    help = "Restore a backup made by `kyphos backup` into an empty database, then verify its audit chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a backup written by `kyphos backup`")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"].resolve()
        backups.restore(source)
        self.stdout.write(_("Restored %(file)s.") % {"file": source})
        verdict = chain.verify()
        if verdict.broken is not None:
            self.stdout.write(
                _(
                    "The restored audit chain is BROKEN at entry %(id)s: "
                    "keep the backup aside and tell the privacy officer."
                )
                % {"id": verdict.broken.entry_id}
            )
            sys.exit(BROKEN)
        self.stdout.write(
            _("Audit chain whole: %(count)s entries, head %(head)s.") % {"count": verdict.count, "head": verdict.head}
        )
