"""Every clinical value names its primary source itself: the repository stands on its own."""

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "kyphos"
DATA = SRC / "rules" / "data"
# A citation names a guideline, article, code system, product document or address, not a section of a note.
CITES = re.compile(
    r"(\d{4}|https?://|LCD|CPT|ICD-10|LOINC|RxNorm|IFU|instructions|patent|sheet|handout|Local|local"
    r"|site|Kyphos|pathway|policy)",
    re.IGNORECASE,
)


def sourced_entries(node: Any, where: str) -> Iterator[tuple[str, Any, str]]:
    """(path, value, source) for every table that carries a clinical value or a source."""
    if isinstance(node, dict):
        if "source" in node:
            yield where, node.get("value"), str(node["source"])
        for key, child in node.items():
            yield from sourced_entries(child, f"{where}.{key}")
    elif isinstance(node, list):
        for n, child in enumerate(node):
            yield from sourced_entries(child, f"{where}[{n}]")


ENTRIES = [
    entry
    for path in sorted(DATA.glob("*.toml"))
    for entry in sourced_entries(tomllib.loads(path.read_text(encoding="utf-8")), path.stem)
]


def test_the_rule_data_has_sourced_values() -> None:
    assert len(ENTRIES) > 150  # the drug tables, triage, labs, windows, red flags, discharge …


@pytest.mark.parametrize("where,value,source", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_each_value_cites_its_primary_source(where: str, value: Any, source: str) -> None:
    assert source.strip(), f"{where} has an empty source"
    assert "CLINICAL.md" not in source and "§" not in source, f"{where} cites a note outside the repository"
    assert CITES.search(source), f"{where}: {source!r} names no guideline, article, code system or address"


def test_no_code_or_data_cites_a_file_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*")
        if path.suffix in {".py", ".toml", ".json", ".html"} and "CLINICAL.md" in path.read_text("utf-8")
    ]
    assert offenders == []


# What a clinician reads under a finding names a source, never our own files, issues or placeholder addresses.
NOT_A_SOURCE = re.compile(r"(\.toml|rules/data|\bIssue \d|kyphos\.example|\.py\b)", re.IGNORECASE)


@pytest.mark.parametrize("where,value,source", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_a_source_never_names_a_file_an_issue_or_a_placeholder(where: str, value: Any, source: str) -> None:
    assert not NOT_A_SOURCE.search(source), f"{where}: {source!r}"


def test_the_sources_written_in_code_are_sources_too() -> None:
    """Findings raised in Python carry their source as a literal: none names a file, an issue or a placeholder."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or "management" in path.parts:
            continue
        for line in path.read_text("utf-8").splitlines():
            if re.search(r'"(Local pathway|Service|Issue \d)[^"]*"', line) and NOT_A_SOURCE.search(line):
                offenders.append(f"{path.relative_to(SRC)}: {line.strip()}")
    assert offenders == []
