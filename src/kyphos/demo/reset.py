"""Replace a demo database with a new, empty one (then migrated and loaded again).

Not a flush: the audit table refuses DELETE and TRUNCATE, and a flush would keep whatever a schema had beyond
our tables. SQLite: the file (with its -wal and -shm) is removed. PostgreSQL: the schema is dropped and made
again, which needs the database owner's rights (the same ones ``migrate`` needs)."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.utils.translation import gettext_lazy as _

from kyphos.demo import department as demo
from kyphos.errors import Refused


def check_replaceable() -> None:
    if not demo.is_empty() and not demo.is_demo():
        raise Refused(
            _(
                "This database holds data that was not loaded as the demo; it is not replaced. "
                "Point KYPHOS_VAR_DIR, KYPHOS_SQLITE or DATABASE_URL at a demo database."
            )
        )


def replace_database() -> None:
    """Start again from an empty database of the same kind, with every migration applied."""
    check_replaceable()
    if connection.vendor == "sqlite":
        if connection.creation.is_in_memory_db(connection.settings_dict["NAME"]):  # type: ignore[attr-defined]
            raise Refused(_("An in-memory database cannot be replaced."))
        name = str(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    else:
        raise Refused(_("Only SQLite and PostgreSQL databases can be replaced."))
    call_command("migrate", interactive=False, verbosity=0)
