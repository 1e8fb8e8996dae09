"""``kyphos load-questionnaire FILE.json``: load a site's FHIR R4 Questionnaire (with its scoring rule).

Licensed instruments (Roland-Morris, Oswestry …) are loaded this way by the site that holds the licence; Kyphos
never ships their wording. A file that cannot be used exits with status 2 and one line; nothing is stored then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.aftercare import questionnaires
from kyphos.audit.actor import Actor
from kyphos.commands import KyphosCommand
from kyphos.errors import InvalidInput


class Command(KyphosCommand):
    help = "Load a FHIR R4 Questionnaire (JSON) with its scoring rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(
                format_lazy(_("cannot read {path}: {strerror}"), path=path, strerror=exc.strerror)
            ) from None
        stored, created = questionnaires.load(Actor.system("load-questionnaire"), raw)
        state = "loaded" if created else "already loaded (unchanged)"
        self.stdout.write(f"{stored.canonical}: {state}, scoring {stored.scoring or 'none'}")
