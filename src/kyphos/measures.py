"""Temperatures as a site's people read and type them.

Stored values are always °C (two decimals, so that a value typed in °F comes back as typed); a site whose people
read Fahrenheit (the United States) sets ``Site.temperature_unit`` to ``"F"`` and every form and page that shows or
takes a temperature uses it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CELSIUS, FAHRENHEIT = "C", "F"
SYMBOL = {CELSIUS: "°C", FAHRENHEIT: "°F"}
TENTH, HUNDREDTH = Decimal("0.1"), Decimal("0.01")


def unit_of(site: Any) -> str:
    """The site's temperature unit; °C when none is set (or no site is known)."""
    return FAHRENHEIT if getattr(site, "temperature_unit", CELSIUS) == FAHRENHEIT else CELSIUS


def to_celsius(value: Decimal, unit: str) -> Decimal:
    """A temperature typed in ``unit``, as stored."""
    celsius = value if unit == CELSIUS else (value - 32) * 5 / 9
    return celsius.quantize(HUNDREDTH, ROUND_HALF_UP)


def from_celsius(celsius: Decimal | float | int, unit: str) -> Decimal:
    """A stored temperature in ``unit``, to the tenth a thermometer shows."""
    value = Decimal(str(celsius))
    shown = value if unit == CELSIUS else value * 9 / 5 + 32
    return shown.quantize(TENTH, ROUND_HALF_UP)


def temperature(celsius: Decimal | None, site: Any = None) -> str:
    """``37.2 °C`` or ``99.0 °F`` as the site reads it; an em dash when nothing was measured."""
    if celsius is None:
        return "—"
    unit = unit_of(site)
    return f"{from_celsius(celsius, unit)} {SYMBOL[unit]}"
