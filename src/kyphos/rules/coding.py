"""Procedure coding for kyphoplasty: CPT from the treated levels, ICD-10-CM from the etiology.

The primary CPT code follows the first level treated (in treatment order): 22513 if it is thoracic, 22514 if it
is lumbar; every other level adds one +22515, whatever its region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.rules import data
from kyphos.rules.levels import InvalidLevel, Region, parse_level, region

ETIOLOGIES = ("osteoporosis", "steroid-induced", "myeloma", "metastasis", "other")


class CodingError(InvalidInput, ValueError):
    """Levels or an etiology that cannot be coded."""


@dataclass(frozen=True)
class Coding:
    cpt: tuple[str, ...]
    icd10cm: tuple[str, ...]
    cpt_labels: tuple[str, ...]
    icd_labels: tuple[str, ...]
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    verify: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "cpt": list(self.cpt),
            "icd10cm": list(self.icd10cm),
            "cpt_labels": list(self.cpt_labels),
            "icd10cm_labels": list(self.icd_labels),
            "notes": list(self.notes),
            "sources": list(self.sources),
            "verify": self.verify,
        }


@cache
def _cpt() -> dict[str, data.Sourced]:
    table = data.load("coding")["cpt"]
    return {name: data.sourced(entry, f"coding.cpt.{name}") for name, entry in table.items()}


@cache
def _icd() -> dict[str, dict[str, Any]]:
    return {row["etiology"]: row for row in data.load("coding")["icd"]}


def code_procedure(levels_in_order: list[str], etiology: str) -> Coding:
    """Codes for levels treated in this order, for a fracture of this etiology."""
    if not levels_in_order:
        raise CodingError(gettext_noop("Give at least one treated level."))
    try:
        levels = [parse_level(level) for level in levels_in_order]
    except InvalidLevel as exc:
        raise CodingError(exc.args[0]) from exc
    if len(set(levels)) != len(levels):
        raise CodingError(gettext_noop("A level is listed twice."))
    if etiology not in _icd():
        raise CodingError(
            Text(
                gettext_noop("Unknown etiology “{etiology}”; use one of {names}."),
                etiology=etiology,
                names=", ".join(ETIOLOGIES),
            )
        )
    first = "first_thoracic" if region(levels[0]) is Region.THORACIC else "first_lumbar"
    keys = [first] + ["each_additional"] * (len(levels) - 1)
    cpt, table = _cpt(), data.load("coding")["cpt"]
    icd = _icd()[etiology]
    return Coding(
        cpt=tuple(str(cpt[key].value) for key in keys),
        icd10cm=tuple(icd["codes"]),
        cpt_labels=tuple(table[key]["label"] for key in keys),
        icd_labels=tuple(icd.get("labels", [])),
        # The data file's note, in the language active now (kyphos makemessages collects it).
        notes=tuple(str(Text(n)) for n in (icd.get("note", ""),) if n),
        sources=tuple(dict.fromkeys([cpt[first].source, icd["source"]])),
        verify=bool(icd.get("verify", False)) or cpt[first].verify,
    )
