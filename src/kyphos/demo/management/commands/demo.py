"""``kyphos demo [--reset] [--seed N]``: load the demo department."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext_lazy as _

from kyphos.commands import KyphosCommand
from kyphos.demo import department as demo
from kyphos.demo import reset
from kyphos.errors import Refused


class Command(KyphosCommand):
    help = "Load the demo department (two sites, one user per role, ~60 patients). Demo data only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="replace the whole database with a new one first (only a demo database or an empty one)",
        )
        parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same department)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset"]:
            reset.replace_database()
        elif not demo.is_empty():
            raise Refused(_("The database already holds sites or patients; use --reset to replace them."))
        demo.load_demo(seed=options["seed"])
        self.stdout.write(self.style.SUCCESS("Demo department loaded."))
        for line in demo.sign_in_lines():
            self.stdout.write(line)
