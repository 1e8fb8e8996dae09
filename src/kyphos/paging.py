"""A paginator that stops counting at a cap, so a list filtered to half a million cases stays fast."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``cap + 1`` rows; ``capped`` says whether there are more than the cap."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int = COUNT_CAP, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # LIMIT inside the count, without the ORDER BY (the count does not depend on it): the database stops
        # after cap + 1 rows instead of sorting every match first.
        return int(self.object_list.order_by()[: self.cap + 1].count())  # type: ignore[attr-defined]

    @property
    def capped(self) -> bool:
        return bool(self.count > self.cap)

    @property
    def cap_text(self) -> str:
        return f"{self.cap:,}"
