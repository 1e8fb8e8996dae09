"""The production files in deploy/ stay true to the code: every unit starts a kyphos command with options that
command has, and every setting the environment file sets is one the README documents."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_a_kyphos_command_with_options_it_has(unit: Path) -> None:
    (line,) = [x for x in unit.read_text().splitlines() if x.startswith("ExecStart=")]
    words = shlex.split(line.removeprefix("ExecStart="))
    assert words[0] == "/opt/kyphos/.venv/bin/kyphos"
    command, options = words[1], [w.split("=")[0] for w in words[2:] if w.startswith("--")]
    shown = subprocess.run(
        [sys.executable, "-m", "kyphos", command, "--help"], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr
    for option in options:
        assert option in shown.stdout, f"{unit.name}: kyphos {command} has no {option}"


def test_the_environment_file_sets_only_documented_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    names = re.findall(r"^([A-Z_]+)=", (ROOT / "deploy" / "kyphos.env").read_text(), flags=re.MULTILINE)
    assert names
    for name in names:
        # Either by its own name, or as one of a family's suffixes (`KYPHOS_EMAIL_HOST`, `_PORT`, `_FROM` …).
        family, _sep, suffix = name.rpartition("_")
        documented = name in readme or (f"`_{suffix}`" in readme and f"`{family}_" in readme)
        assert documented, f"{name} is not in the README's settings"
