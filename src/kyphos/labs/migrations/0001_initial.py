# Lab results move from procedure/ to labs/ without touching the table: state only.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("pathway", "0002_alter_task_kind"),
        ("procedure", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LabResult",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("code", models.CharField(max_length=16)),
                        ("loinc", models.CharField(max_length=16)),
                        ("value", models.DecimalField(blank=True, decimal_places=2, max_digits=8, null=True)),
                        ("positive", models.BooleanField(blank=True, null=True)),
                        ("unit", models.CharField(blank=True, max_length=20)),
                        ("taken_at", models.DateTimeField()),
                        ("entered_at", models.DateTimeField()),
                        ("source", models.CharField(default="manual", max_length=12)),
                        ("case", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                   related_name="lab_results", to="pathway.case")),
                        ("entered_by", models.ForeignKey(blank=True, null=True,
                                                         on_delete=django.db.models.deletion.PROTECT,
                                                         to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "procedure_labresult",
                        "ordering": ["-taken_at", "-id"],
                        "indexes": [models.Index(fields=["case", "code", "-taken_at"], name="lab_case_code_taken")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
