"""Questionnaires as data: load a site's FHIR Questionnaire, keep Kyphos's own set, record scored answers."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos import clock
from kyphos.aftercare.models import Questionnaire, QuestionnaireResponse, ResponseContext
from kyphos.aftercare.outcomes import refresh
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput
from kyphos.pathway.errors import NotPermitted
from kyphos.pathway.models import Case
from kyphos.pathway.policy import may
from kyphos.rules import questionnaires as rules
from kyphos.translation import lazy

RECOVERY_URL = "https://kyphos.example/fhir/Questionnaire/kyphos-recovery"


def ensure_shipped() -> None:
    """Store Kyphos's own questionnaires (once per url and version)."""
    for definition in rules.shipped():
        instrument = rules.parse(definition)
        Questionnaire.objects.get_or_create(
            url=instrument.url,
            version=instrument.version,
            defaults={
                "title": instrument.title["en"],
                "definition": definition,
                "scoring": instrument.method or "",
                "shipped": True,
                "loaded_at": clock.current(),
            },
        )


@transaction.atomic
def load(actor: Actor, definition: Any) -> tuple[Questionnaire, bool]:
    """Load a site's questionnaire (a FHIR R4 Questionnaire as a dict or JSON text); return it and whether new.

    Loading the same url and version again with the same content changes nothing; with different content it is
    refused, because stored answers must keep the meaning they were given under."""
    if actor.user is not None and not may(actor.user, "questionnaire.load"):
        raise NotPermitted(_("Only a manager or an administrator loads questionnaires."))
    if isinstance(definition, str | bytes):
        try:
            definition = json.loads(definition.decode("utf-8") if isinstance(definition, bytes) else definition)
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text.")) from None
        except ValueError as exc:
            raise ValidationError(format_lazy(_("The file is not JSON: {exc}"), exc=exc)) from None
        except RecursionError:
            raise ValidationError(_("The file nests its JSON too deeply to be a questionnaire.")) from None
    try:
        instrument = rules.parse(definition)
    except rules.QuestionnaireError as exc:
        raise ValidationError(str(exc)) from None
    existing = Questionnaire.objects.filter(url=instrument.url, version=instrument.version).first()
    if existing is not None:
        if existing.definition != definition:
            raise ValidationError(
                format_lazy(
                    _(
                        "{canonical} is already loaded with different content. Give the changed questionnaire a "
                        "new version."
                    ),
                    canonical=instrument.canonical,
                )
            )
        return existing, False
    stored = Questionnaire.objects.create(
        url=instrument.url,
        version=instrument.version,
        title=instrument.title["en"],
        definition=definition,
        scoring=instrument.method or "",
        loaded_at=clock.current(),
        loaded_by=actor.user_or_none,
    )
    audit.record(actor, AuditAction.CREATE, "questionnaire", stored.pk, detail=instrument.canonical)
    return stored, True


@lru_cache(maxsize=64)
def _parsed(pk: int, text: str) -> rules.Instrument:
    return rules.parse(json.loads(text))


def instrument(questionnaire: Questionnaire) -> rules.Instrument:
    return _parsed(questionnaire.pk, json.dumps(questionnaire.definition, sort_keys=True))


def recovery() -> Questionnaire:
    """Kyphos's own short set (pain, pain medicines, walking, daily activities): the diary's questionnaire."""
    ensure_shipped()
    return Questionnaire.objects.filter(url=RECOVERY_URL).order_by("-loaded_at", "-id").first()  # type: ignore[return-value]


def available() -> list[Questionnaire]:
    ensure_shipped()
    return list(Questionnaire.objects.filter(active=True))


@transaction.atomic
def record(
    actor: Actor,
    case: Case,
    questionnaire: Questionnaire,
    context: str,
    answers: dict[str, Any],
    *,
    author: str = "",
    refresh_outcome: bool = True,
) -> QuestionnaireResponse:
    """Check and score the answers and store them; raise ValidationError keyed by linkId when they do not fit.
    A caller that records more (a diary entry, a visit) refreshes the outcome itself, once, at its end."""
    if context not in ResponseContext.values:
        raise InvalidInput(
            format_lazy(_("Unknown questionnaire context {context!r}."), context=context), field="context"
        )
    try:
        result = rules.score(instrument(questionnaire), answers)
    except rules.AnswerError as exc:
        raise ValidationError({key: [lazy(message)] for key, message in exc.errors.items()}) from None
    response = QuestionnaireResponse.objects.create(
        case=case,
        questionnaire=questionnaire,
        context=context,
        authored_at=clock.current(),
        author=author or actor.name,
        by=actor.user_or_none,
        items=result.items,
        score=result.score,
    )
    audit.record(
        actor,
        AuditAction.CREATE,
        "questionnaire_response",
        response.uuid,
        patient_uuid=case.patient.uuid,
        detail=f"{context} {questionnaire.canonical}",
    )
    if refresh_outcome:
        refresh(case)
    return response


def as_fhir(response: QuestionnaireResponse) -> dict[str, Any]:
    return rules.response_resource(
        instrument(response.questionnaire),
        rules.Scored(response.items, response.score, {}),
        authored=response.authored_at.isoformat(),
        subject_ref=f"Patient/{response.case.patient.uuid}",
        author=response.author,
    )


def question_rows(
    instrument: rules.Instrument,
    language: str,
    values: dict[str, Any],
    errors: dict[str, Any],
    *,
    prefix: str = "",
) -> list[dict[str, Any]]:
    """What a form needs to show each question (the patient's pages and the follow-up visit share it): the field
    name (``prefix`` + linkId), label and options in the language, a 0–10 style scale for short number ranges,
    the value typed so far and the first error."""
    rows = []
    for item in instrument.items:
        if item.type == "display":
            continue
        low, high = item.minimum, item.maximum
        scale = (
            list(range(low, high + 1))
            if item.type == "integer" and low is not None and high is not None and high - low <= 10
            else []
        )
        rows.append(
            {
                "id": prefix + item.link_id,
                "type": item.type,
                "label": item.label(language),
                "required": item.required,
                "options": [(o.code, o.display.get(language) or o.display["en"]) for o in item.options],
                "min": item.minimum,
                "max": item.maximum,
                "scale": scale,
                "value": str(values.get(item.link_id, "")),
                "error": (errors.get(prefix + item.link_id) or [""])[0],
            }
        )
    return rows
