"""The rooms of the code import only downwards (DESIGN.md): a later stage may read an earlier one, never the
reverse; rules/ imports no Django and nothing of ours but rules/."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "kyphos"
# Modules below every room: usable from any of them.
GROUND = {"apps", "clock", "commands", "errors", "formfields", "measures", "paging", "settings", "translation", "when"}
STAGE_ROOMS = {
    "aftercare",
    "procedure",
    "labs",
    "precall",
    "messaging",
    "pathway",
    "patients",
    "scheduling",
    "audit",
    "rules",
}
BELOW: dict[str, set[str]] = {
    "rules": set(),
    "audit": set(),
    "patients": {"audit", "rules"},
    "scheduling": {"audit", "rules"},
    "pathway": {"patients", "scheduling", "audit", "rules"},
    "messaging": {"pathway", "patients", "scheduling", "audit", "rules"},
    # Lab results sit below every stage that reads them (the call's kidney function, the procedure's readiness).
    "labs": {"pathway", "patients", "scheduling", "audit", "rules"},
    "precall": {"labs", "messaging", "pathway", "patients", "scheduling", "audit", "rules"},
    "procedure": {"labs", "precall", "messaging", "pathway", "patients", "scheduling", "audit", "rules"},
    "aftercare": {
        "labs",
        "procedure",
        "precall",
        "messaging",
        "pathway",
        "patients",
        "scheduling",
        "audit",
        "rules",
    },
    # The patient's own pages, and the demo department with its builder, read and drive every stage room; no stage
    # room imports them (nor the staff pages).
    "portal": STAGE_ROOMS,
    "demo": STAGE_ROOMS,
    # The hospital's other systems (HL7 v2, later FHIR) go through the same services as the staff pages.
    "interop": STAGE_ROOMS,
    # The manager's dashboard and the registry export read every stage room.
    "reports": STAGE_ROOMS,
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "kyphos":
            names.update(f"kyphos.{alias.name}" for alias in node.names)  # from kyphos import when
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("room", sorted(BELOW))
def test_rooms_import_only_downwards(room: str) -> None:
    allowed = BELOW[room] | {room} | GROUND
    for path in (SRC / room).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for name in imports_of(path):
            if name.startswith("kyphos."):
                target = name.split(".")[1]
                assert target in allowed, f"{path.relative_to(SRC)} imports {name} ({room} may not import {target})"
            if room == "rules":
                assert not name.startswith("django"), f"{path.relative_to(SRC)} imports Django"
