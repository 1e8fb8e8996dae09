"""The cement timer: when cement mixed at a given time stops being workable and is set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from kyphos.rules import data


@dataclass(frozen=True)
class CementProduct:
    id: str
    name: str
    working: timedelta
    setting: timedelta
    source: str
    confidence: str
    verify: bool


@dataclass(frozen=True)
class CementTimes:
    mixed_at: datetime
    workable_until: datetime
    set_at: datetime


@cache
def products() -> dict[str, CementProduct]:
    loaded = {}
    for row in data.load("cement")["product"]:
        working, setting = float(row["working_minutes"]), float(row["setting_minutes"])
        if not 0 < working < setting <= 60:
            raise data.DataFileError(f"cement.toml {row['id']}: need 0 < working < setting ≤ 60 minutes")
        loaded[row["id"]] = CementProduct(
            row["id"],
            row["name"],
            timedelta(minutes=working),
            timedelta(minutes=setting),
            row["source"],
            row["confidence"],
            bool(row.get("verify", False)),
        )
    return loaded


def cement_times(product_id: str, mixed_at: datetime) -> CementTimes:
    product = products()[product_id]
    return CementTimes(mixed_at, mixed_at + product.working, mixed_at + product.setting)
