"""Whose images are these? The patient named in outside DICOM images against the case's patient.

DICOM writes a person's name as ``FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX`` (DICOM PS3.5 2024, section 6.2, value
representation PN), possibly followed by ``=`` and ideographic or phonetic forms; dates as ``YYYYMMDD`` (VR DA);
sex as ``M``, ``F`` or ``O`` (PS3.3, C.7.1.1, Patient's Sex). Names are compared by their search keys (case,
accents, spaces and punctuation ignored): the family name must match, and the first given name must match or one
must start the other ("Ana" and "Ana María"). The birth date must be the same day. A sex recorded on both sides
must agree. Anything missing is named, never guessed: a CD without a birth date cannot be checked by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kyphos.rules.names import name_key

SEX = {"M": "M", "F": "F", "O": "O"}


@dataclass(frozen=True)
class Person:
    family: str
    given: str
    birth_date: date | None
    sex: str  # M, F, O, or "" when unknown


@dataclass(frozen=True)
class Mismatch:
    field: str  # name, birth_date, sex
    reason: str  # a short code: differs, missing


def from_dicom(name: str, birth_date: str, sex: str) -> Person:
    """A person from DICOM's PN, DA and CS values (the alphabetic form of the name only)."""
    alphabetic = name.split("=", 1)[0]
    parts = [*alphabetic.split("^"), "", ""]
    return Person(parts[0].strip(), parts[1].strip(), dicom_date(birth_date), SEX.get(sex.strip().upper(), ""))


def dicom_date(text: str) -> date | None:
    """A DICOM DA value (YYYYMMDD, PS3.5 6.2) as a date; None when empty or not a real day."""
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _given_matches(one: str, other: str) -> bool:
    first, second = name_key(one.split(" ")[0] if one else ""), name_key(other.split(" ")[0] if other else "")
    if not first or not second:
        return False
    return first == second or first.startswith(second) or second.startswith(first)


def compare(outside: Person, ours: Person) -> list[Mismatch]:
    """What does not match between the images' patient and ours; empty when all that both record agrees."""
    found = []
    if not outside.family:
        found.append(Mismatch("name", "missing"))
    elif name_key(outside.family) != name_key(ours.family) or not _given_matches(outside.given, ours.given):
        found.append(Mismatch("name", "differs"))
    if outside.birth_date is None:
        found.append(Mismatch("birth_date", "missing"))
    elif outside.birth_date != ours.birth_date:
        found.append(Mismatch("birth_date", "differs"))
    if outside.sex and ours.sex and outside.sex != ours.sex:
        found.append(Mismatch("sex", "differs"))
    return found
