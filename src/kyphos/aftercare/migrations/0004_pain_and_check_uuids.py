"""Ward pain scores and recovery checks get a UUID (part of the FHIR API's Observation ids): added empty, filled
row by row, then unique."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name in ("PainScore", "RecoveryCheck"):
        model = apps.get_model("aftercare", name)
        batch = []
        for row in model.objects.filter(uuid__isnull=True).only("pk").iterator(chunk_size=2000):
            row.uuid = uuid.uuid4()
            batch.append(row)
            if len(batch) == 2000:
                model.objects.bulk_update(batch, ["uuid"])
                batch = []
        model.objects.bulk_update(batch, ["uuid"])


class Migration(migrations.Migration):
    dependencies = [("aftercare", "0003_temperature_hundredths")]

    operations = [
        migrations.AddField(model_name="painscore", name="uuid", field=models.UUIDField(null=True, editable=False)),
        migrations.AddField(
            model_name="recoverycheck", name="uuid", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="painscore",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            model_name="recoverycheck",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
