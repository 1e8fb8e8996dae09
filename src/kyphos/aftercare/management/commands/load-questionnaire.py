"""``kyphos load-questionnaire FILE.json``: load a site's FHIR R4 Questionnaire (with its scoring rule).

Licensed instruments (Roland-Morris, Oswestry …) are loaded this way by the site that holds the licence; Kyphos
never ships their wording. Exit 1 with one line when the file cannot be used; nothing is stored then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kyphos.aftercare import questionnaires
from kyphos.audit.actor import Actor


class Command(BaseCommand):
    help = "Load a FHIR R4 Questionnaire (JSON) with its scoring rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            stored, created = questionnaires.load(Actor.system("load-questionnaire"), text)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        state = "loaded" if created else "already loaded (unchanged)"
        self.stdout.write(f"{stored.canonical}: {state}, scoring {stored.scoring or 'none'}")
