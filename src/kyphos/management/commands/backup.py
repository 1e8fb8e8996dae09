"""``kyphos backup FILE``: a consistent copy of the whole database, taken while Kyphos runs (owner-only file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos import backups
from kyphos.commands import KyphosCommand


class Command(KyphosCommand):
    help = "Back up the whole database to FILE (SQLite online backup, or pg_dump custom format on PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="where to write the backup (must not exist yet)")

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["file"].resolve()
        size = backups.backup(target)
        self.stdout.write(
            _("Backed up to %(file)s (%(size)s bytes, readable by its owner only).") % {"file": target, "size": size}
        )
