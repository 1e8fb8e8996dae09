"""The ``kyphos`` console command: Django's management with Kyphos settings (serve, demo, windows, ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["kyphos", *(argv if argv is not None else sys.argv[1:])])
    except ImproperlyConfigured as exc:
        # A setting from the environment that cannot work: one line and exit status 2, never a traceback.
        print(f"kyphos: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
