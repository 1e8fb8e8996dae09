"""Search keys for people's names: case- and accent-blind, the same on SQLite and PostgreSQL.

"Muñoz", "MUNOZ" and "munoz" share the key ``munoz``; "De la Cruz" and "de La-Cruz" share ``delacruz``. Keys are
stored beside the names (``Patient.family_key``, ``given_key``) with one B-tree index, and a prefix search is a
range ``key >= "mun" AND key < "muo"``: a plain index range on both databases, whatever the column's collation,
because keys built from a–z and 0–9 alone sort the same in every collation.
"""

from __future__ import annotations

import unicodedata

ASCII_KEY = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# Letters that do not decompose into a base letter and a mark.
SPECIAL = {"ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "œ": "oe", "þ": "th", "ı": "i"}


def name_key(text: str) -> str:
    """The search key of a name: lower case, accents removed, only letters and digits kept."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    out = []
    for char in folded:
        if unicodedata.combining(char):
            continue
        char = SPECIAL.get(char, char)
        if char.isalnum():
            out.append(char)
    return "".join(out)


def _after(prefix: str) -> str | None:
    """The smallest a–z/0–9 key greater than every key starting with ``prefix`` (None: no upper bound)."""
    order = "0123456789abcdefghijklmnopqrstuvwxyz"
    chars = list(prefix)
    while chars:
        last = chars.pop()
        position = order.index(last)
        if position + 1 < len(order):
            return "".join(chars) + order[position + 1]
    return None


def prefix_range(prefix: str) -> tuple[str, str | None] | None:
    """``(low, high)`` such that a key starts with ``prefix`` exactly when ``low <= key < high``.

    None when the prefix holds letters beyond a–z and 0–9 (Greek, Chinese …): collations order those
    differently, so the caller matches them with a plain prefix test instead of a range.
    """
    if not set(prefix) <= ASCII_KEY:
        return None
    return prefix, _after(prefix)
