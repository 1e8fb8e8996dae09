"""The demo mark. A database loaded before the mark existed is recognised by what only the demo makes: its two
sites and its published user names together."""

from typing import Any

from django.db import migrations, models
from django.utils import timezone

DEMO_USERS = {"scheduler", "nurse", "radiologist", "admin"}


def mark_an_earlier_demo(apps: Any, schema_editor: Any) -> None:
    site = apps.get_model("scheduling", "Site")
    user = apps.get_model("auth", "User")
    codes = set(site.objects.values_list("code", flat=True))
    names = set(user.objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
    if codes == {"HOSP", "ASC"} and names == DEMO_USERS:
        apps.get_model("demo", "DemoMark").objects.create(loaded_at=timezone.now(), seed=7)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("scheduling", "0011_patient_link_asks_dob"),
    ]

    operations = [
        migrations.CreateModel(
            name="DemoMark",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("loaded_at", models.DateTimeField()),
                ("seed", models.IntegerField()),
            ],
        ),
        migrations.RunPython(mark_an_earlier_demo, migrations.RunPython.noop),
    ]
