"""The base of every ``kyphos`` command: a refusal is one line on stderr and exit status 2, never a traceback.

Commands raise ``KyphosError`` (or Django's ``ValidationError`` / ``CommandError``) for input they cannot use;
this class maps each to ``kyphos <command>: <message>`` and status 2. Argument errors (a missing option, a
value of the wrong type) are reported the same way instead of argparse's usage block.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.errors import InvalidInput, KyphosError

USAGE_ERROR = 2


class KyphosCommand(BaseCommand):
    """A management command whose refusals are one line and exit status 2."""

    @property
    def command_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def fail(self, message: str) -> NoReturn:
        line = " ".join(str(message).split())
        sys.stderr.write(f"kyphos {self.command_name}: {line}\n")
        sys.exit(USAGE_ERROR)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = self.fail  # type: ignore[method-assign]
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except KyphosError as exc:
            self.fail(exc.message)
        except ValidationError as exc:
            self.fail(" ".join(exc.messages))
        except CommandError as exc:
            self.fail(str(exc))


def bounded_int(low: int, high: int, what: str) -> Any:
    """An argparse ``type`` that accepts whole numbers from ``low`` to ``high`` and names the limits otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                format_lazy(_("{what} must be a whole number, not {text!r}"), what=what, text=text)
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                format_lazy(
                    _("{what} must be from {low} to {high}, not {value}"), what=what, low=low, high=high, value=value
                )
            )
        return value

    return parse


def local_time(text: str, zone: ZoneInfo, what: str) -> datetime:
    """``2026-12-07T08:00`` read as wall-clock time in ``zone``; refuse offsets and malformed text."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            format_lazy(_("malformed {what} {text!r}; use YYYY-MM-DDTHH:MM"), what=what, text=text)
        ) from None
    if naive.tzinfo is not None:
        raise InvalidInput(format_lazy(_("give the {what} in the site's local time, without an offset"), what=what))
    return naive.replace(tzinfo=zone)
