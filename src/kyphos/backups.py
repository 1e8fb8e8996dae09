"""Backups of the whole database, taken while Kyphos runs, and their restore into an empty database.

SQLite: the online backup API copies every page in one step under a read lock, so the copy is one consistent
moment even while the web and the worker keep writing (WAL lets them). PostgreSQL: ``pg_dump`` in its custom
format, which reads everything in one snapshot; ``pg_restore`` puts it back. The file is written beside its final
name and renamed when complete, readable by its owner only: a backup holds every patient's data.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection
from django.utils.translation import gettext as _

from kyphos.errors import Refused

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` of the newest PostgreSQL installed (it reads older servers too)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[4]))
    path = found[-1] if found else shutil.which(name)
    if path is None:
        raise Refused(_("%(tool)s is not installed (Debian package postgresql-client).") % {"tool": name})
    return path


def _pg_args() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["--dbname", str(db["NAME"])]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # the environment, never the command line others can read
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    # A fixed program and our own settings as arguments: no outside input reaches a shell.
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise Refused(_("%(tool)s failed: %(reason)s") % {"tool": Path(cmd[0]).name, "reason": last})


def backup(target: Path) -> int:
    """Write a backup of the whole database to ``target`` (which must not exist yet); return its size in bytes."""
    if target.exists():
        raise Refused(_("%(file)s already exists; a backup never overwrites a file.") % {"file": target})
    if not target.parent.is_dir():
        raise Refused(_("There is no folder %(folder)s.") % {"folder": target.parent})
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    old_umask = os.umask(0o077)
    try:
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(partial) as copy:
                connection.connection.backup(copy)
            copy.close()
        elif connection.vendor == "postgresql":
            args, env = _pg_args()
            _run([pg_tool("pg_dump"), "--format=custom", "--file", str(partial), *args], env)
        else:
            raise Refused(_("Only SQLite and PostgreSQL databases can be backed up."))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        os.umask(old_umask)
    partial.chmod(0o600)
    partial.rename(target)
    return target.stat().st_size


def _kind(source: Path) -> str:
    with source.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    return "unknown"


def tables_in_use() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def restore(source: Path) -> None:
    """Put a backup into this database, which must be empty (no tables: never migrated)."""
    if not source.is_file():
        raise Refused(_("There is no file %(file)s.") % {"file": source})
    kind = _kind(source)
    if kind == "unknown":
        raise Refused(
            _("%(file)s is not a Kyphos backup (neither SQLite nor pg_dump custom format).") % {"file": source}
        )
    if kind != connection.vendor:
        raise Refused(
            _("%(file)s is a %(kind)s backup; this database is %(vendor)s.")
            % {"file": source, "kind": kind, "vendor": connection.vendor}
        )
    present = tables_in_use()
    if present:
        raise Refused(
            _("A backup is restored into an empty database only; this one has %(count)s tables.")
            % {"count": len(present)}
        )
    if kind == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_file:
            backup_file.backup(connection.connection)
        backup_file.close()
    else:
        args, env = _pg_args()
        _run([pg_tool("pg_restore"), "--exit-on-error", "--no-owner", "--single-transaction", *args, str(source)], env)
    connection.close()
