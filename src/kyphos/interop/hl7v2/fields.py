"""Reading fields of a parsed message without tripping on what is absent: an empty string, never an IndexError."""

from __future__ import annotations

from datetime import date

import hl7


def value(
    message: hl7.Message, segment: str, field: int, repetition: int = 1, component: int = 1, *, occurrence: int = 1
) -> str:
    """SEG-field, repetition, component (1-based) of the ``occurrence``-th such segment, unescaped; "" when the
    message does not carry it."""
    try:
        raw = message.extract_field(segment, occurrence, field, repetition, component, 1)
    except (IndexError, KeyError):
        if component == 1 and repetition == 1:
            try:  # a field with no components is a leaf: python-hl7 refuses a component path into it
                raw = str(message.segments(segment)[occurrence - 1](field))
            except (IndexError, KeyError):
                return ""
        else:
            return ""
    return str(message.unescape(str(raw))).strip() if raw else ""


def repetitions(message: hl7.Message, segment: str, field: int) -> int:
    try:
        found = message.segment(segment)(field)
    except (IndexError, KeyError):
        return 0
    return 1 if isinstance(found, str) else len(found)


def has_segment(message: hl7.Message, segment: str) -> bool:
    try:
        message.segment(segment)
    except KeyError:
        return False
    return True


def hl7_date(text: str) -> date | None:
    """``YYYYMMDD[HHMM…]`` (DTM/TS): the date, or None when it is not a real date."""
    digits = text[:8]
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
