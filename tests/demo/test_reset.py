"""`kyphos demo --reset` replaces a demo database with a new one, audit trail and all, and refuses any other
database. Real processes on a temporary database: a SQLite file, and under tests.pgrun a PostgreSQL database of
its own on the same server."""

from __future__ import annotations

from collections.abc import Callable

from tests.databases import Env, kyphos, new_database, sql

__all__ = ["new_database"]  # the fixture


def test_reset_replaces_a_demo_database_with_a_new_one(new_database: Callable[[], Env]) -> None:
    database = new_database()
    assert kyphos(database, "migrate", "--verbosity", "0").returncode == 0
    assert kyphos(database, "demo").returncode == 0
    patients = sql(database, "SELECT count(*) FROM patients_patient")[0][0]
    sql(database, "UPDATE patients_patient SET family_name = 'Changed-by-hand'")
    assert kyphos(database, "audit", "verify").returncode == 0
    done = kyphos(database, "demo", "--reset")
    assert done.returncode == 0, done.stderr
    assert "Demo department loaded." in done.stdout
    assert sql(database, "SELECT count(*) FROM patients_patient")[0][0] == patients
    assert sql(database, "SELECT count(*) FROM patients_patient WHERE family_name = 'Changed-by-hand'")[0][0] == 0
    assert sql(database, "SELECT count(*) FROM demo_demomark")[0][0] == 1
    verified = kyphos(database, "audit", "verify")
    assert verified.returncode == 0 and "Audit chain whole" in verified.stdout


def test_reset_refuses_a_database_that_is_not_a_demo(new_database: Callable[[], Env]) -> None:
    database = new_database()
    assert kyphos(database, "migrate", "--verbosity", "0").returncode == 0
    made = kyphos(
        database,
        "shell",
        "-c",
        "from kyphos.scheduling.models import Site; "
        "Site.objects.create(code='MAIN', name='A hospital', time_zone='America/Chicago', phone='+1 312 555 0100')",
    )
    assert made.returncode == 0, made.stderr
    sites = sql(database, "SELECT code FROM scheduling_site")
    entries = sql(database, "SELECT count(*) FROM audit_auditentry")[0][0]
    done = kyphos(database, "demo", "--reset")
    assert done.returncode == 2
    assert done.stderr.startswith("kyphos demo: This database holds data that was not loaded as the demo")
    assert len(done.stderr.strip().splitlines()) == 1
    assert sql(database, "SELECT code FROM scheduling_site") == sites == [("MAIN",)]
    assert sql(database, "SELECT count(*) FROM audit_auditentry")[0][0] == entries
    served = kyphos(database, "serve", "--demo", "--no-worker")
    assert served.returncode == 2 and "demo mode serves a demo database only" in served.stderr
