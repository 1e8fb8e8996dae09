"""Outcome questionnaires: read a FHIR R4 ``Questionnaire`` (as JSON), check answers, score them.

A site loads validated instruments (Roland-Morris, Oswestry …) itself: their wording is licensed and never ships
with Kyphos. What Kyphos needs from a definition:

- ``url``, ``version``, ``title``, ``status`` and flat ``item`` entries (groups are read through), each with a
  ``linkId``, ``text`` and one of the types below; ``required`` is honoured;
- a score per answer option, in the R4 ``ordinalValue`` extension on the option's ``valueCoding`` (the R5
  ``itemWeight`` extension is read too); a yes/no item scores 1 for yes; an integer item scores its value;
- the scoring rule in our extension ``SCORING_URL`` with sub-extensions ``method`` (``sum`` or ``percent``: the
  sum as a percentage of the highest sum possible over the answered items, as the Oswestry index does),
  optional ``item`` (one per scored linkId; all scored items when absent) and optional ``minAnswered``;
- Spanish (or any language) text in the standard ``translation`` extension on ``_text`` / ``_display``.

Answers are given as ``{linkId: value}`` and come back as a ``QuestionnaireResponse``-shaped list of items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from kyphos.errors import InvalidInput, Text, gettext_noop

SCORING_URL = "https://kyphos.example/fhir/StructureDefinition/questionnaire-scoring"
ORDINAL_URLS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
)
TRANSLATION_URL = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
TYPES = {"boolean", "integer", "decimal", "choice", "string", "text", "display"}
SCORED_TYPES = {"boolean", "integer", "choice"}
METHODS = {"sum", "percent"}


class QuestionnaireError(InvalidInput, ValueError):
    """A definition Kyphos cannot use, with the reason."""


class AnswerError(InvalidInput, ValueError):
    """Answers that do not fit the questionnaire; ``errors`` maps linkId to a message (translated where shown)."""

    def __init__(self, errors: dict[str, str | Text]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _translations(element: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for ext in (element or {}).get("extension", []):
        if ext.get("url") != TRANSLATION_URL:
            continue
        parts = {sub.get("url"): sub for sub in ext.get("extension", [])}
        lang, content = parts.get("lang", {}).get("valueCode"), parts.get("content", {}).get("valueString")
        if lang and content:
            out[str(lang)] = str(content)
    return out


def _ext_value(element: dict[str, Any], url: str) -> Any:
    for ext in element.get("extension", []):
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


@dataclass(frozen=True)
class Option:
    code: str
    display: dict[str, str]
    score: Decimal | None


@dataclass(frozen=True)
class Item:
    link_id: str
    type: str
    text: dict[str, str]
    required: bool
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def label(self, language: str) -> str:
        return self.text.get(language) or self.text["en"]

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    @property
    def max_score(self) -> Decimal:
        if self.type == "boolean":
            return Decimal(1)
        if self.type == "integer":
            return Decimal(self.maximum or 0)
        return max((o.score for o in self.options if o.score is not None), default=Decimal(0))

    @property
    def min_score(self) -> Decimal:
        if self.type == "integer":
            return Decimal(self.minimum or 0)
        if self.type == "choice":
            return min((o.score for o in self.options if o.score is not None), default=Decimal(0))
        return Decimal(0)


@dataclass(frozen=True)
class Instrument:
    url: str
    version: str
    title: dict[str, str]
    items: tuple[Item, ...]
    method: str | None
    scored: tuple[str, ...] = ()
    min_answered: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    def item(self, link_id: str) -> Item:
        return next(i for i in self.items if i.link_id == link_id)

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title["en"]

    def score_range(self) -> tuple[Decimal, Decimal] | None:
        if self.method is None:
            return None
        if self.method == "percent":
            return Decimal(0), Decimal(100)
        items = [self.item(link) for link in self.scored]
        return sum((i.min_score for i in items), Decimal(0)), sum((i.max_score for i in items), Decimal(0))


def _flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for raw in items:
        if raw.get("type") == "group":
            out.extend(_flatten(raw.get("item", [])))
        else:
            out.append(raw)
    return out


def _item(raw: dict[str, Any]) -> Item:
    link_id = str(raw.get("linkId") or "").strip()
    if not link_id:
        raise QuestionnaireError(gettext_noop("An item has no linkId."))
    kind = raw.get("type")
    if kind not in TYPES:
        raise QuestionnaireError(
            Text(
                gettext_noop("Item {link_id}: type {kind!r} is not supported ({names})."),
                link_id=link_id,
                kind=kind,
                names=", ".join(sorted(TYPES)),
            )
        )
    if not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise QuestionnaireError(Text(gettext_noop("Item {link_id}: it has no text."), link_id=link_id))
    text = {"en": raw["text"], **_translations(raw.get("_text"))}
    options: list[Option] = []
    for n, entry in enumerate(raw.get("answerOption", []), start=1):
        coding = entry.get("valueCoding")
        if not isinstance(coding, dict) or not coding.get("code"):
            raise QuestionnaireError(
                Text(gettext_noop("Item {link_id}: option {n} needs a valueCoding with a code."), link_id=link_id, n=n)
            )
        score = next((v for url in ORDINAL_URLS if (v := _ext_value(coding, url)) is not None), None)
        if score is None:
            score = next((v for url in ORDINAL_URLS if (v := _ext_value(entry, url)) is not None), None)
        display = {
            "en": str(coding.get("display") or coding["code"]),
            **_translations(coding.get("_display")),
        }
        options.append(Option(str(coding["code"]), display, None if score is None else Decimal(str(score))))
    if kind == "choice" and not options:
        raise QuestionnaireError(
            Text(gettext_noop("Item {link_id}: a choice item needs answerOption entries."), link_id=link_id)
        )
    if len({o.code for o in options}) != len(options):
        raise QuestionnaireError(Text(gettext_noop("Item {link_id}: two options share a code."), link_id=link_id))
    low, high = _ext_value(raw, MIN_URL), _ext_value(raw, MAX_URL)
    if kind == "integer" and (low is not None and high is not None) and int(low) > int(high):
        raise QuestionnaireError(Text(gettext_noop("Item {link_id}: minValue is above maxValue."), link_id=link_id))
    return Item(
        link_id,
        kind,
        text,
        bool(raw.get("required", False)),
        tuple(options),
        None if low is None else int(low),
        None if high is None else int(high),
    )


# The JSON types FHIR R4 gives the elements this reader uses; anything else is refused with its path.
MAX_DEPTH = 32
LISTS_OF_OBJECTS = frozenset({"item", "extension", "answerOption"})
OBJECTS = frozenset({"_text", "_title", "_display", "valueCoding"})
STRINGS = frozenset(
    {
        "resourceType",
        "url",
        "version",
        "status",
        "title",
        "name",
        "linkId",
        "text",
        "type",
        "display",
        "system",
        "valueCode",
        "valueString",
    }
)
NUMBERS = frozenset({"valueInteger", "valueDecimal"})


def _check_shape(node: Any, path: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise QuestionnaireError(
            Text(gettext_noop("{path}: nested more than {depth} levels deep."), path=path, depth=MAX_DEPTH)
        )
    if isinstance(node, list):
        for n, entry in enumerate(node):
            _check_shape(entry, f"{path}[{n}]", depth + 1)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{path}.{key}"
        if key in LISTS_OF_OBJECTS and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise QuestionnaireError(Text(gettext_noop("{where} must be a list of objects."), where=where))
        if key in OBJECTS and not isinstance(value, dict):
            raise QuestionnaireError(Text(gettext_noop("{where} must be an object."), where=where))
        if key in STRINGS and not isinstance(value, str):
            raise QuestionnaireError(Text(gettext_noop("{where} must be text."), where=where))
        if key == "required" and not isinstance(value, bool):
            raise QuestionnaireError(Text(gettext_noop("{where} must be true or false."), where=where))
        if key in NUMBERS and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise QuestionnaireError(Text(gettext_noop("{where} must be a number."), where=where))
        _check_shape(value, where, depth + 1)


def parse(definition: dict[str, Any]) -> Instrument:
    """Read and check a FHIR R4 Questionnaire; raise QuestionnaireError with the first problem found."""
    if not isinstance(definition, dict) or definition.get("resourceType") != "Questionnaire":
        raise QuestionnaireError(
            gettext_noop('This is not a FHIR Questionnaire (resourceType must be "Questionnaire").')
        )
    _check_shape(definition, "Questionnaire")
    try:
        return _parse(definition)
    except QuestionnaireError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError) as exc:
        # A combination the shape check does not foresee: refuse it with its kind rather than fail.
        raise QuestionnaireError(
            Text(gettext_noop("A value has a type or form this reader cannot use ({kind})."), kind=type(exc).__name__)
        ) from None


def _parse(definition: dict[str, Any]) -> Instrument:
    url = str(definition.get("url") or "").strip()
    if not url:
        raise QuestionnaireError(gettext_noop("The questionnaire needs a canonical url."))
    version = str(definition.get("version") or "").strip()
    if not version:
        raise QuestionnaireError(
            gettext_noop("The questionnaire needs a version, so that stored answers keep their meaning.")
        )
    if definition.get("status") not in {"draft", "active", "retired"}:
        raise QuestionnaireError(gettext_noop("status must be draft, active or retired."))
    title = str(definition.get("title") or definition.get("name") or "").strip()
    if not title:
        raise QuestionnaireError(gettext_noop("The questionnaire needs a title."))
    items = tuple(_item(raw) for raw in _flatten(list(definition.get("item") or [])))
    if not items:
        raise QuestionnaireError(gettext_noop("The questionnaire has no items."))
    ids = [i.link_id for i in items]
    if len(set(ids)) != len(ids):
        raise QuestionnaireError(gettext_noop("Two items share a linkId."))
    method: str | None = None
    scored: tuple[str, ...] = ()
    min_answered = 0
    for ext in definition.get("extension", []):
        if ext.get("url") != SCORING_URL:
            continue
        parts = ext.get("extension", [])
        method = next((p.get("valueCode") for p in parts if p.get("url") == "method"), None)
        if method not in METHODS:
            raise QuestionnaireError(
                Text(gettext_noop("Scoring method must be one of {names}."), names=", ".join(sorted(METHODS)))
            )
        scored = tuple(str(p.get("valueString")) for p in parts if p.get("url") == "item")
        min_answered = int(next((p.get("valueInteger") for p in parts if p.get("url") == "minAnswered"), 0) or 0)
    if method is not None:
        by_id = {i.link_id: i for i in items}
        scored = scored or tuple(i.link_id for i in items if i.type in SCORED_TYPES)
        for link_id in scored:
            item = by_id.get(link_id)
            if item is None:
                raise QuestionnaireError(
                    Text(gettext_noop("The scoring rule names item {link_id}, which does not exist."), link_id=link_id)
                )
            if item.type not in SCORED_TYPES:
                raise QuestionnaireError(
                    Text(gettext_noop("Item {link_id} ({type}) cannot be scored."), link_id=link_id, type=item.type)
                )
            if item.type == "choice" and any(o.score is None for o in item.options):
                raise QuestionnaireError(
                    Text(
                        gettext_noop("Item {link_id}: every option of a scored item needs an ordinalValue."),
                        link_id=link_id,
                    )
                )
            if item.type == "integer" and (item.minimum is None or item.maximum is None):
                raise QuestionnaireError(
                    Text(gettext_noop("Item {link_id}: a scored number needs minValue and maxValue."), link_id=link_id)
                )
        if min_answered > len(scored):
            raise QuestionnaireError(gettext_noop("minAnswered is more than the number of scored items."))
    title_all = {"en": title, **_translations(definition.get("_title"))}
    return Instrument(url, version, title_all, items, method, scored, min_answered, definition)


@dataclass(frozen=True)
class Scored:
    items: list[dict[str, Any]]  # QuestionnaireResponse.item
    score: Decimal | None
    answered: dict[str, Any]


class _Wrong(ValueError):
    """An answer that does not fit its question; ``text`` says why, to be translated where it is shown."""

    def __init__(self, text: str | Text) -> None:
        super().__init__(str(text))
        self.text = text


def _coerce(item: Item, value: Any) -> Any:
    """The answer as its FHIR type, or ``_Wrong`` with a message for the person answering."""
    if item.type == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"true", "yes", "1"}:
            return True
        if str(value).lower() in {"false", "no", "0"}:
            return False
        raise _Wrong(gettext_noop("Answer yes or no."))
    if item.type == "integer":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _Wrong(gettext_noop("Enter a whole number.")) from None
        if (item.minimum is not None and number < item.minimum) or (item.maximum is not None and number > item.maximum):
            raise _Wrong(
                Text(gettext_noop("Enter a number from {low} to {high}."), low=item.minimum, high=item.maximum)
            )
        return number
    if item.type == "decimal":
        try:
            return Decimal(str(value).strip())
        except ArithmeticError:
            raise _Wrong(gettext_noop("Enter a number.")) from None
    if item.type == "choice":
        if item.option(str(value)) is None:
            raise _Wrong(gettext_noop("Choose one of the answers."))
        return str(value)
    text = str(value).strip()
    if "\x00" in text or len(text) > 2000:
        raise _Wrong(gettext_noop("This answer is too long or has characters that cannot be stored."))
    return text


def _answer(item: Item, value: Any) -> dict[str, Any]:
    if item.type == "boolean":
        return {"valueBoolean": value}
    if item.type == "integer":
        return {"valueInteger": value}
    if item.type == "decimal":
        return {"valueDecimal": float(value)}
    if item.type == "choice":
        option = item.option(value)
        assert option is not None
        return {"valueCoding": {"code": option.code, "display": option.display["en"]}}
    return {"valueString": value}


def _item_score(item: Item, value: Any) -> Decimal:
    if item.type == "boolean":
        return Decimal(1 if value else 0)
    if item.type == "integer":
        return Decimal(value)
    option = item.option(value)
    assert option is not None and option.score is not None
    return option.score


def score(instrument: Instrument, answers: dict[str, Any]) -> Scored:
    """Check the answers and score them; raise AnswerError naming every item that is wrong or missing."""
    errors: dict[str, str | Text] = {}
    unknown = set(answers) - {i.link_id for i in instrument.items}
    for link in sorted(unknown):
        errors[link] = gettext_noop("This question is not part of the questionnaire.")
    clean: dict[str, Any] = {}
    for item in instrument.items:
        if item.type == "display":
            continue
        value = answers.get(item.link_id)
        if value is None or (isinstance(value, str) and not value.strip()):
            if item.required:
                errors[item.link_id] = gettext_noop("Please answer this question.")
            continue
        try:
            clean[item.link_id] = _coerce(item, value)
        except _Wrong as exc:
            errors[item.link_id] = exc.text
    total: Decimal | None = None
    if instrument.method is not None and not errors:
        answered = [link for link in instrument.scored if link in clean]
        if len(answered) < max(instrument.min_answered, 1):
            errors["_score"] = Text(
                gettext_noop("At least {count} scored questions must be answered for a score."),
                count=max(instrument.min_answered, 1),
            )
        else:
            total = sum((_item_score(instrument.item(link), clean[link]) for link in answered), Decimal(0))
            if instrument.method == "percent":
                most = sum((instrument.item(link).max_score for link in answered), Decimal(0))
                total = (total * 100 / most).quantize(Decimal("0.1")) if most else Decimal(0)
    if errors:
        raise AnswerError(errors)
    items = [
        {"linkId": item.link_id, "text": item.text["en"], "answer": [_answer(item, clean[item.link_id])]}
        for item in instrument.items
        if item.link_id in clean
    ]
    return Scored(items, total, clean)


def response_resource(
    instrument: Instrument, result: Scored, *, authored: str, subject_ref: str, author: str
) -> dict[str, Any]:
    """A FHIR R4 QuestionnaireResponse for the answers, with the score in our scoring extension."""
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": instrument.canonical,
        "status": "completed",
        "subject": {"reference": subject_ref},
        "authored": authored,
        "author": {"display": author},
        "item": result.items,
    }
    if result.score is not None:
        resource["extension"] = [{"url": SCORING_URL + "#score", "valueDecimal": float(result.score)}]
    return resource


@cache
def shipped() -> tuple[dict[str, Any], ...]:
    """Kyphos's own short questionnaires (our wording, free to ship), as FHIR JSON."""
    folder = resources.files("kyphos.rules").joinpath("data", "questionnaires")
    return tuple(
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    )
