"""``kyphos makemessages``: Django's, plus the sentences of the rule data files.

The findings of the pre-procedure call and of triage are worded in ``rules/data/*.toml`` (next to their sources),
not in Python, so ``xgettext`` cannot see them. For the length of the run this writes them into a Python file in the
directory being scanned, as ``gettext_noop`` calls, then removes it: the catalogue keeps them like any other sentence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.commands import makemessages

from kyphos.rules import data

SHIM = "kyphos_rule_sentences.py"


class Command(makemessages.Command):
    help = f"{makemessages.Command.help} Also collects the sentences of Kyphos's rule data files."

    def handle(self, *args: Any, **options: Any) -> None:
        shim = Path.cwd() / SHIM
        lines = ["# Written by kyphos makemessages for xgettext; removed when it ends.\n"]
        lines += [f"gettext_noop({json.dumps(sentence, ensure_ascii=False)})\n" for sentence in data.sentences()]
        shim.write_text("".join(lines), encoding="utf-8")
        try:
            super().handle(*args, **options)
        finally:
            shim.unlink(missing_ok=True)
