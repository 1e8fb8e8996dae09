"""Non-surgical care in weeks (was months), and the coverage criteria's supporting findings at referral."""

from django.db import migrations, models

WEEKS_PER_MONTH = 4.345  # 365.25 / 12 / 7


def months_to_weeks(apps, schema_editor):
    Case = apps.get_model("pathway", "Case")
    for case in Case.objects.exclude(months_conservative_care=None).only("pk", "months_conservative_care"):
        Case.objects.filter(pk=case.pk).update(
            weeks_conservative_care=round(case.months_conservative_care * WEEKS_PER_MONTH)
        )


def weeks_to_months(apps, schema_editor):
    Case = apps.get_model("pathway", "Case")
    for case in Case.objects.exclude(weeks_conservative_care=None).only("pk", "weeks_conservative_care"):
        Case.objects.filter(pk=case.pk).update(
            months_conservative_care=round(case.weeks_conservative_care / WEEKS_PER_MONTH)
        )


class Migration(migrations.Migration):
    dependencies = [("pathway", "0004_task_kind_early_plan")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="weeks_conservative_care",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(months_to_weeks, weeks_to_months),
        migrations.RemoveField(model_name="case", name="months_conservative_care"),
        migrations.AddField(
            model_name="case",
            name="pain_trend",
            field=models.CharField(
                blank=True,
                choices=[("worsening", "Worsening"), ("stable", "Stable"), ("improving", "Improving")],
                max_length=12,
            ),
        ),
        migrations.AddField(model_name="case", name="kyphotic_deformity", field=models.BooleanField(default=False)),
        migrations.AddField(
            model_name="case", name="progressive_height_loss", field=models.BooleanField(default=False)
        ),
    ]
