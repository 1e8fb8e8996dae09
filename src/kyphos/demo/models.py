"""The mark a demo database carries: only such a database may be replaced by ``kyphos demo --reset`` or served
by ``kyphos serve --demo``."""

from __future__ import annotations

from django.db import models


class DemoMark(models.Model):
    loaded_at = models.DateTimeField()
    seed = models.IntegerField()

    def __str__(self) -> str:
        return f"demo department (seed {self.seed}) loaded {self.loaded_at:%Y-%m-%d %H:%M}"
