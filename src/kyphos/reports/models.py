"""The dashboard's cache: each site's figures for each calendar month, kept as data and added up for a period."""

from __future__ import annotations

from django.db import models

from kyphos.scheduling.models import Site


class MonthFigures(models.Model):
    """One site's figures for one month (``Figures.to_data``) as they stood at ``computed_at``. ``changed_at``: when
    ``reports.cache.refresh`` last found a change that may alter them (stale while it is later than
    ``computed_at``). ``settles_at``: until then time alone changes them (a follow-up window still open)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # its first day
    data = models.JSONField()
    computed_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True)
    settles_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "month"], name="month_figures_site_month")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.month:%Y-%m}"


class ChangeMark(models.Model):
    """How far the cache has read the audit log's changes (the id of the last entry read)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.last_id}"
