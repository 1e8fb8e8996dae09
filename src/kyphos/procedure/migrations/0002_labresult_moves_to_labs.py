# Lab results now belong to labs/ (labs.0001 takes over the same table): state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("procedure", "0001_initial"),
        ("labs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="LabResult")],
            database_operations=[],
        ),
    ]
