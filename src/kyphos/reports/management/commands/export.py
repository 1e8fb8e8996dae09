"""``kyphos export registry --site HOSP --from 2026-01-01 --to 2026-12-31 [--deidentified] FILE``: the cases
treated in the period as CSV (FILE, one row per case) and their treated levels (FILE-levels.csv, one row per
level), with a progress bar on a terminal. Each patient exported is audited."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos.audit.actor import Actor
from kyphos.commands import KyphosCommand
from kyphos.errors import InvalidInput
from kyphos.reports.figures import Period
from kyphos.reports.registry import Export
from kyphos.scheduling.models import Site


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("{option} must be a date such as 2026-01-31.").format(option=option)) from None


class Command(KyphosCommand):
    help = "Export the cases treated in a period, and their levels, as CSV for a registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["registry"])
        parser.add_argument("file", help="the cases' CSV; the levels go beside it as <name>-levels.csv")
        parser.add_argument("--site", action="append", default=[], help="a site's code (again for more; none: all)")
        parser.add_argument("--from", dest="start", required=True, help="first day of the period (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", required=True, help="last day of the period (YYYY-MM-DD)")
        parser.add_argument("--deidentified", action="store_true", help="no identifiers; pseudonyms; shifted dates")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = _day(options["start"], "--from"), _day(options["end"], "--to")
        if start > end:
            raise InvalidInput(_("--from is after --to."))
        sites = None
        if options["site"]:
            found = dict(Site.objects.filter(code__in=options["site"]).values_list("code", "id"))
            missing = [code for code in options["site"] if code not in found]
            if missing:
                raise InvalidInput(_("No site {code}.").format(code=missing[0]))
            sites = frozenset(found.values())
        cases_path = Path(options["file"])
        levels_path = cases_path.with_name(f"{cases_path.stem}-levels{cases_path.suffix or '.csv'}")
        if not cases_path.parent.is_dir():
            raise InvalidInput(_("{folder} is not a folder.").format(folder=cases_path.parent))
        for path in (cases_path, levels_path):
            if path.exists():
                raise InvalidInput(_("{path} already exists: choose another name.").format(path=path))
        deidentified = bool(options["deidentified"])
        export = Export(Period(sites, start, end), deidentified=deidentified)
        total = export.count()
        actor = Actor.system("kyphos export registry")

        def progress(done: int) -> None:
            if sys.stderr.isatty() and total:
                width = 30
                filled = width * done // total
                sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
                sys.stderr.flush()

        try:
            with (
                open(cases_path, "x", newline="", encoding="utf-8") as cases,
                open(levels_path, "x", newline="", encoding="utf-8") as levels,
            ):
                written = export.write(cases, levels, actor, progress=progress)
        except BaseException:
            cases_path.unlink(missing_ok=True)
            levels_path.unlink(missing_ok=True)
            raise
        if sys.stderr.isatty() and total:
            sys.stderr.write("\n")
        self.stdout.write(
            _("{n} case(s) written to {cases}, their levels to {levels}.").format(
                n=written, cases=cases_path, levels=levels_path
            )
        )
