"""The one place Kyphos asks for the current time, so tests can move it (time-machine patches this too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


# An injected "now" for work that must happen at a chosen moment (the demo builds a department's past).
# Tests move time with time-machine instead, which this function also follows.
_frozen: ContextVar[datetime | None] = ContextVar("kyphos_frozen_now", default=None)


def current() -> datetime:
    """Return the injected time if one is set, else the real current time (aware, UTC)."""
    frozen = _frozen.get()
    return frozen if frozen is not None else now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Run the block as if it were ``moment`` (must be aware)."""
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
