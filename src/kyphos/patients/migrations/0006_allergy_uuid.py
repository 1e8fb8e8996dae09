"""Each allergy gets a UUID (the FHIR API's AllergyIntolerance id): added empty, filled, then unique."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Allergy = apps.get_model("patients", "Allergy")
    batch = []
    for row in Allergy.objects.filter(uuid__isnull=True).only("pk").iterator(chunk_size=2000):
        row.uuid = uuid.uuid4()
        batch.append(row)
    Allergy.objects.bulk_update(batch, ["uuid"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_address")]

    operations = [
        migrations.AddField(model_name="allergy", name="uuid", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="allergy",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
