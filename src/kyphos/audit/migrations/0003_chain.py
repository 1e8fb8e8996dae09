"""Chain the audit entries by hash and make the table append-only in the database itself.

The triggers refuse UPDATE always, and DELETE / TRUNCATE unless the connection was opened by the test suite
(kyphos.audit.chain.erasable). On SQLite a later migration that rebuilds this table drops its triggers: such a
migration must create them again (tests/web/test_audit_chain.py fails if they are missing)."""

from typing import Any

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry WHEN kyphos_audit_sealed()
       BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END""",
]
SQLITE_DROP = ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"]

POSTGRES = [
    """CREATE FUNCTION kyphos_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' OR coalesce(current_setting('kyphos.audit_erasable', true), '') <> 'on' THEN
           RAISE EXCEPTION USING MESSAGE = 'audit entries cannot be changed or deleted: ' || TG_OP;
         END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_auditentry
       FOR EACH ROW EXECUTE FUNCTION kyphos_audit_refuse()""",
    """CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
       FOR EACH STATEMENT EXECUTE FUNCTION kyphos_audit_refuse()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER audit_entry_no_truncate ON audit_auditentry",
    "DROP TRIGGER audit_entry_no_change ON audit_auditentry",
    "DROP FUNCTION kyphos_audit_refuse()",
]


def chain_existing(apps: Any, schema_editor: Any) -> None:
    from kyphos.audit.chain import GENESIS, digest

    entry_model = apps.get_model("audit", "AuditEntry")
    previous = GENESIS
    for entry in entry_model.objects.order_by("id").iterator(chunk_size=5000):
        entry.prev_hash = previous
        entry.hash = digest(entry)
        entry_model.objects.filter(id=entry.id).update(prev_hash=entry.prev_hash, hash=entry.hash)
        previous = entry.hash


def statements(vendor: str, create: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES if create else POSTGRES_DROP
    return []


def create_triggers(apps: Any, schema_editor: Any) -> None:
    for sql in statements(schema_editor.connection.vendor, create=True):
        schema_editor.execute(sql)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    for sql in statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_sign_in_actions"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
