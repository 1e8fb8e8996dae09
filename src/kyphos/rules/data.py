"""Load the reviewed clinical data files and check that every value carries its source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from kyphos.errors import InvalidInput

CONFIDENCE_TAGS = {"P", "S", "T", "U", "S/T", "P/S", "seed", "local"}


class DataFileError(InvalidInput, ValueError):
    """A clinical data file is malformed or a value lacks its source."""


@dataclass(frozen=True)
class Sourced:
    """A value as reviewed: the number or text, where it comes from, how sure we are."""

    value: Any
    source: str
    confidence: str
    verify: bool = False


@cache
def load(name: str) -> dict[str, Any]:
    """Return the parsed data file ``data/<name>.toml`` (cached; the files ship with the package)."""
    text = resources.files("kyphos.rules").joinpath("data", f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    meta = data.get("meta")
    if not isinstance(meta, dict) or not meta.get("version"):
        raise DataFileError(f"{name}.toml: a [meta] table with a version is required")
    return data


# The data files whose findings carry a sentence a person reads (``[[finding]] message``); ``sentences`` also
# collects the checklist's items, the coding notes and the blood-thinner table's notes and lab advice.
WORDED = ("precall", "triage")


def sentences() -> list[str]:
    """Every sentence the data files show to a person, for the translation catalogue (``kyphos makemessages``)."""
    found = [row["message"] for name in WORDED for row in load(name).get("finding", [])]
    found += [label for part in load("procedure")["checklist"].values() for _key, label in part]
    found += [row["note"] for row in load("coding")["icd"] if row.get("note")]
    plans = load("antithrombotics")["rule"]
    found += [row["note"] for row in plans if row.get("note")]
    found += [lab for row in plans for lab in row.get("labs", [])]
    return list(dict.fromkeys(found))


def sourced(entry: dict[str, Any], where: str) -> Sourced:
    """Read one ``{value, source, confidence, verify}`` entry, refusing one without a source."""
    missing = [key for key in ("value", "source", "confidence") if key not in entry]
    if missing:
        raise DataFileError(f"{where}: missing {', '.join(missing)}")
    if entry["confidence"] not in CONFIDENCE_TAGS:
        raise DataFileError(f"{where}: unknown confidence tag {entry['confidence']!r}")
    return Sourced(entry["value"], str(entry["source"]), str(entry["confidence"]), bool(entry.get("verify", False)))
