"""Every sentence marked for translation has its Spanish, and nothing is left fuzzy.

Adding a language is adding one catalogue (see the README); this test then holds it to the same rule.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

SRC = Path(__file__).resolve().parent.parent / "src" / "kyphos"
CATALOGS = sorted((SRC / "locale").glob("*/LC_MESSAGES/django.po"))


def entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry but the header."""
    found = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in block.splitlines())
        block = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        parts = re.split(r"^msgstr(?:\[\d+\])? ", block, flags=re.M)
        if len(parts) < 2 or "msgid " not in parts[0]:
            continue
        msgid = "".join(re.findall(r'"(.*)"', parts[0].split("msgid ", 1)[1].split("msgid_plural ")[0]))
        # A plural has one msgstr per form: every form must be there.
        forms = ["".join(re.findall(r'"(.*)"', part)) for part in parts[1:]]
        if msgid:
            found.append((msgid, "" if not all(forms) else forms[0], fuzzy))
    return found


def test_there_is_a_spanish_catalogue() -> None:
    assert [po.parts[-3] for po in CATALOGS] == ["es"]


@pytest.mark.parametrize("po", CATALOGS, ids=lambda po: po.parts[-3])
def test_the_catalogue_in_the_repository_is_complete(po: Path) -> None:
    missing = [msgid for msgid, msgstr, fuzzy in entries(po) if not msgstr or fuzzy]
    assert missing == [], f"{len(missing)} untranslated or fuzzy in {po}: {missing[:5]}"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda po: po.parts[-3])
def test_every_marked_sentence_in_the_code_is_in_the_catalogue(po: Path, tmp_path: Path) -> None:
    """Run makemessages over a copy of the code: a sentence marked but not yet translated shows up empty."""
    language = po.parts[-3]
    copy = tmp_path / "kyphos"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command("makemessages", locale=[language], no_location=True, no_obsolete=True, verbosity=0)
    finally:
        os.chdir(here)
    fresh = entries(copy / "locale" / language / "LC_MESSAGES" / "django.po")
    missing = [msgid for msgid, msgstr, fuzzy in fresh if not msgstr or fuzzy]
    assert missing == [], f"marked in the code but not translated into {language}: {missing[:5]}"
    assert len(fresh) >= len(entries(po)) > 80


def test_a_sentence_with_values_is_translated_before_its_values_are_filled_in() -> None:
    from kyphos.errors import Text
    from kyphos.translation import lazy

    message = lazy(Text("Enter a number from {low} to {high}.", low=0, high=10))
    with translation.override("es"):
        assert str(message) == "Escriba un número del 0 al 10."
    with translation.override("en"):
        assert str(message) == "Enter a number from 0 to 10."
