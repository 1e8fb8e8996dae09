"""The medicine catalogue: find a drug by generic or brand name, its class and usual dosing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.rules import data


class Frequency(StrEnum):
    ONCE_DAILY = "once-daily"
    TWICE_DAILY = "twice-daily"
    THREE_TIMES_DAILY = "three-times-daily"
    FOUR_TIMES_DAILY = "four-times-daily"
    EVERY_72_HOURS = "every-72-hours"
    WEEKLY = "weekly"
    EVERY_6_MONTHS = "every-6-months"
    YEARLY = "yearly"
    CONTINUOUS = "continuous"
    AS_NEEDED = "as-needed"

    @property
    def interval_hours(self) -> int | None:
        """Hours between doses, or None where doses are not counted (infusions, as needed)."""
        return {
            "once-daily": 24,
            "twice-daily": 12,
            "three-times-daily": 8,
            "four-times-daily": 6,
            "every-72-hours": 72,
            "weekly": 168,
            "every-6-months": 24 * 182,
            "yearly": 24 * 365,
        }.get(self.value)

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")


class Intent(StrEnum):
    PROPHYLACTIC = "prophylactic"
    THERAPEUTIC = "therapeutic"


ANTICOAGULANT_CLASSES = {"vka", "doac_xa", "doac_thrombin", "heparin", "lmwh", "xa_indirect", "iv_dti"}
ANTIPLATELET_CLASSES = {"antiplatelet_cox", "antiplatelet_other", "p2y12", "gp2b3a", "pde3"}
PAIN_CLASSES = {"opioid", "analgesic", "nsaid", "nsaid_cox2"}


@dataclass(frozen=True)
class Drug:
    id: str
    generic: str
    brands: tuple[str, ...]
    drug_class: str
    frequency: Frequency
    intent: Intent
    rxnorm: str = ""

    @property
    def antithrombotic(self) -> bool:
        """Anticoagulants, antiplatelets and NSAIDs: the medicines the blood-thinner plan covers."""
        return self.drug_class in ANTICOAGULANT_CLASSES | ANTIPLATELET_CLASSES | {"nsaid", "nsaid_cox2"}

    @property
    def is_opioid(self) -> bool:
        return self.drug_class == "opioid"

    @property
    def is_glp1(self) -> bool:
        return self.drug_class == "glp1"

    @property
    def is_pain_medicine(self) -> bool:
        return self.drug_class in PAIN_CLASSES

    @property
    def display(self) -> str:
        return f"{self.generic} ({', '.join(self.brands)})" if self.brands else self.generic


class UnknownDrug(InvalidInput, LookupError):
    """No catalogue entry matches the name."""


@cache
def catalogue() -> dict[str, Drug]:
    drugs = {}
    for row in data.load("drugs")["drug"]:
        drug = Drug(
            id=row["id"],
            generic=row["generic"],
            brands=tuple(row.get("brands", [])),
            drug_class=row["class"],
            frequency=Frequency(row["frequency"]),
            intent=Intent(row["intent"]),
            rxnorm=row.get("rxnorm", ""),
        )
        drugs[drug.id] = drug
    return drugs


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@cache
def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for drug in catalogue().values():
        for name in (drug.id, drug.generic, *drug.brands):
            names.setdefault(_key(name), drug.id)
    return names


def find_drug(text: str) -> Drug:
    """The drug named exactly by its id, generic or brand name (any case); UnknownDrug otherwise."""
    drug_id = _names().get(_key(text or ""))
    if drug_id is None:
        raise UnknownDrug(Text(gettext_noop("“{value}” is not in the medicine catalogue."), value=(text or "").strip()))
    return catalogue()[drug_id]


def named_in(text: str) -> list[Drug]:
    """The catalogue's medicines a free text names (a referral's medicine list): whole names, generic or brand."""
    padded = f" {_key(text or '')} "
    found = [drug_id for name, drug_id in _names().items() if name and f" {name} " in padded]
    return [catalogue()[drug_id] for drug_id in dict.fromkeys(found)]


def search(text: str, limit: int = 10) -> list[Drug]:
    """Drugs whose generic or brand name starts with ``text`` (then contains it), for matching as one types."""
    key = _key(text)
    if not key:
        return []
    starts, contains = [], []
    for name, drug_id in _names().items():
        if name.startswith(key):
            starts.append(drug_id)
        elif key in name:
            contains.append(drug_id)
    ordered = list(dict.fromkeys(starts + contains))
    return [catalogue()[drug_id] for drug_id in ordered[:limit]]


UNIT_LIMITS = {
    "mg": Decimal(10_000),
    "mcg": Decimal(10_000_000),
    "g": Decimal(10),
    "units": Decimal(100_000),
    "ml": Decimal(1_000),
}
UNIT_ALIASES = {"µg": "mcg", "ug": "mcg", "unit": "units", "u": "units", "iu": "units", "ml": "ml"}
_DOSE_RE = re.compile(r"^\s*(-?[0-9]+(?:[.,][0-9]+)?)\s*([a-zA-Zµ]+)\s*$")


class InvalidDose(InvalidInput, ValueError):
    """A dose that is not a positive amount with a known unit."""


def parse_dose(text: str) -> tuple[Decimal, str]:
    """Read ``"5 mg"`` or ``"2.5mg"`` into (amount, unit); refuse zero, negative, absurd or unit-less doses."""
    match = _DOSE_RE.match(text or "")
    if not match:
        raise InvalidDose(
            Text(
                gettext_noop("“{value}” is not a dose; write an amount and a unit, e.g. 5 mg."),
                value=(text or "").strip(),
            )
        )
    try:
        amount = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets numbers through
        raise InvalidDose(Text(gettext_noop("“{text}” is not a number."), text=text)) from exc
    unit = match.group(2).lower()
    unit = UNIT_ALIASES.get(unit, unit)
    if unit not in UNIT_LIMITS:
        raise InvalidDose(
            Text(gettext_noop("Unknown unit “{unit}”; use mg, mcg, g, units or mL."), unit=match.group(2))
        )
    if amount <= 0:
        raise InvalidDose(gettext_noop("A dose must be more than zero."))
    if amount > UNIT_LIMITS[unit]:
        raise InvalidDose(
            Text(
                gettext_noop("{amount} {unit} is not a possible single dose; check the number."),
                amount=amount,
                unit=unit,
            )
        )
    return amount, unit
