"""``kyphos code-procedure --levels T12,L1 --etiology osteoporosis --json``: CPT and ICD-10-CM codes."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from kyphos.commands import KyphosCommand
from kyphos.rules.coding import code_procedure


class Command(KyphosCommand):
    help = "Code a kyphoplasty: levels in treatment order and the fracture's etiology."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--levels", required=True, help="treated levels in treatment order, e.g. T12,L1")
        parser.add_argument(
            "--etiology", required=True, help="osteoporosis, steroid-induced, myeloma, metastasis or other"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        levels = [part.strip() for part in options["levels"].split(",") if part.strip()]
        coding = code_procedure(levels, options["etiology"])
        if options["json"]:
            self.stdout.write(json.dumps(coding.as_json(), ensure_ascii=False))
            return
        self.stdout.write("CPT:        " + ", ".join(coding.cpt))
        self.stdout.write("ICD-10-CM:  " + (", ".join(coding.icd10cm) or "(choose)"))
        for note in coding.notes:
            self.stdout.write(f"note: {note}")
