import json
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def windows(capsys: Any, *args: str) -> dict[str, Any]:
    call_command("windows", *args)
    return json.loads(capsys.readouterr().out)


def test_windows_json_for_a_monday(site: Any, capsys: Any) -> None:
    result = windows(capsys, "--site", "HOSP", "--appointment", "2026-12-07T08:00", "--json")
    assert result["call_window"] == {
        "start": "2026-12-04T07:00:00-05:00",
        "end": "2026-12-04T17:00:00-05:00",
        "moved": True,
    }
    assert result["follow_up_window"] == {
        "start": "2026-12-14T07:00:00-05:00",
        "end": "2026-12-21T17:00:00-05:00",
    }


def test_windows_in_the_sites_own_zone(other_site: Any, capsys: Any) -> None:
    result = windows(capsys, "--site", "ASC", "--appointment", "2026-12-09T10:00", "--json")
    assert result["call_window"]["start"] == "2026-12-07T10:00:00-06:00"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--site", "NOPE", "--appointment", "2026-12-07T08:00"], "unknown site"),
        (["--site", "HOSP", "--appointment", "07/12/2026 8am"], "malformed appointment time"),
        (["--site", "HOSP", "--appointment", "2026-12-07T08:00+01:00"], "local time"),
        # Dates at the ends of the calendar once overflowed the window arithmetic with a traceback.
        (["--site", "HOSP", "--appointment", "0001-01-01T08:00"], "from 1900 to 2999"),
        (["--site", "HOSP", "--appointment", "9999-12-31T08:00"], "from 1900 to 2999"),
        (["--site", "HOSP"], "--appointment"),
    ],
)
def test_windows_refuses_bad_input_with_status_2(site: Any, capsys: Any, args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("windows", *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_the_console_command_exists_and_helps() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kyphos", "help", "windows"],
        capture_output=True,
        text=True,
        env={"KYPHOS_SECRET_KEY": "x", "PATH": "/usr/bin:/bin"},
        check=True,
    ).stdout
    assert "--appointment" in out


def test_a_refusal_from_the_console_is_one_line_and_status_2(tmp_path: Any) -> None:
    """What a person at a terminal sees: one line naming the command, no usage block, no traceback."""
    env = {"KYPHOS_SECRET_KEY": "x", "PATH": "/usr/bin:/bin", "KYPHOS_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "kyphos", "windows", "--site", "HOSP"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("kyphos windows: ") and done.stderr.count("\n") == 1
