"""A paginator that stops counting at a cap, so a list filtered to half a million cases stays fast."""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP + 1`` rows; ``capped`` says whether there are more than the cap."""

    @cached_property
    def count(self) -> int:
        # LIMIT inside the count: the database stops scanning after cap + 1 rows.
        return int(self.object_list[: COUNT_CAP + 1].count())  # type: ignore[attr-defined]

    @property
    def capped(self) -> bool:
        return bool(self.count > COUNT_CAP)
