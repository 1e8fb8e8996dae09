"""Vertebral levels T1–L5: parsing, order, adjacency and region."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from kyphos.errors import InvalidInput, Text, gettext_noop

THORACIC = tuple(f"T{n}" for n in range(1, 13))
LUMBAR = tuple(f"L{n}" for n in range(1, 6))
ALL_LEVELS = THORACIC + LUMBAR
_INDEX = {name: i for i, name in enumerate(ALL_LEVELS)}
_LEVEL_RE = re.compile(r"^\s*([TtLl])\s*-?\s*(\d{1,2})\s*$")


class Region(StrEnum):
    THORACIC = "thoracic"
    LUMBAR = "lumbar"


class InvalidLevel(InvalidInput, ValueError):
    """A level outside T1–L5 or text that is not a level."""


def parse_level(text: str) -> str:
    """Return the canonical name (``"T12"``) of a level typed as ``t12``, ``T-12`` or ``T 12``."""
    match = _LEVEL_RE.match(text or "")
    if not match:
        raise InvalidLevel(
            Text(gettext_noop("“{text}” is not a vertebral level; use T1–T12 or L1–L5."), text=text.strip())
        )
    name = f"{match.group(1).upper()}{int(match.group(2))}"
    if name not in _INDEX:
        raise InvalidLevel(Text(gettext_noop("{name} is outside the levels Kyphos treats (T1–T12, L1–L5)."), name=name))
    return name


def parse_levels(text: str | Iterable[str]) -> tuple[str, ...]:
    """Parse a list such as ``"T12, L1"`` into distinct levels, top to bottom."""
    items = re.split(r"[,;\s]+(?=[TtLl])", text.strip()) if isinstance(text, str) else list(text)
    items = [item for item in items if item and item.strip()]
    if not items:
        raise InvalidLevel(gettext_noop("Give at least one vertebral level (T1–T12, L1–L5)."))
    names = {parse_level(item) for item in items}
    return tuple(sorted(names, key=_INDEX.__getitem__))


def level_index(level: str) -> int:
    return _INDEX[parse_level(level)]


def region(level: str) -> Region:
    return Region.THORACIC if parse_level(level).startswith("T") else Region.LUMBAR


def are_adjacent(upper: str, lower: str) -> bool:
    """True when the two levels are neighbours (T12 and L1 are)."""
    return abs(level_index(upper) - level_index(lower)) == 1


def contiguous_runs(levels: Iterable[str]) -> list[tuple[str, ...]]:
    """Group levels into runs of neighbours: T11, T12, L2 → [(T11, T12), (L2,)]."""
    ordered = sorted({parse_level(lv) for lv in levels}, key=_INDEX.__getitem__)
    runs: list[list[str]] = []
    for name in ordered:
        if runs and _INDEX[name] - _INDEX[runs[-1][-1]] == 1:
            runs[-1].append(name)
        else:
            runs.append([name])
    return [tuple(run) for run in runs]
