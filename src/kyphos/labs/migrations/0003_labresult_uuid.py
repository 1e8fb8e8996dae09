"""Each lab result gets a UUID (the FHIR API's Observation id): added empty, filled row by row, then unique."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    LabResult = apps.get_model("labs", "LabResult")
    batch = []
    for row in LabResult.objects.filter(uuid__isnull=True).only("pk").iterator(chunk_size=2000):
        row.uuid = uuid.uuid4()
        batch.append(row)
        if len(batch) == 2000:
            LabResult.objects.bulk_update(batch, ["uuid"])
            batch = []
    LabResult.objects.bulk_update(batch, ["uuid"])


class Migration(migrations.Migration):
    dependencies = [("labs", "0002_result_status_corrections")]

    operations = [
        migrations.AddField(model_name="labresult", name="uuid", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="labresult",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
