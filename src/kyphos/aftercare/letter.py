"""The discharge letter: going home, restarting medicines, activity, red flags, the follow-up visit."""

from __future__ import annotations

from typing import Any

from kyphos import clock
from kyphos.aftercare.selectors import restart_lines
from kyphos.messaging.letters import LetterContent
from kyphos.messaging.words import long_date, short_date
from kyphos.pathway.models import Case
from kyphos.rules import data, wording
from kyphos.scheduling.models import Visit

TEXT = {
    "en": {
        "title": "Going home after your kyphoplasty",
        "meds_h": "Your medicines",
        "restart": "{drug}: start again from {when}, if your doctor agrees.",
        "restart_ask": "{drug}: ask your doctor when to start again.",
        "none": "Keep taking your usual medicines.",
        "home_h": "At home",
        "visit_h": "Your follow-up visit",
        "visit": "Your visit with the radiologist is on {date} at {time}, at {site}.",
        "visit_none": "We will call you to book your visit with the radiologist, 7 to 14 days after the procedure.",
        "help_h": "When to get help",
        "footer": "For {name}. Written on {made}.",
    },
    "es": {
        "title": "De vuelta a casa después de su cifoplastia",
        "meds_h": "Sus medicinas",
        "restart": "{drug}: vuelva a tomarla a partir del {when}, si su médico está de acuerdo.",
        "restart_ask": "{drug}: pregunte a su médico cuándo volver a tomarla.",
        "none": "Siga tomando sus medicinas de siempre.",
        "home_h": "En casa",
        "visit_h": "Su cita de control",
        "visit": "Su cita con el radiólogo es el {date} a las {time}, en {site}.",
        "visit_none": "Le llamaremos para darle la cita con el radiólogo, de 7 a 14 días después del procedimiento.",
        "help_h": "Cuándo pedir ayuda",
        "footer": "Para {name}. Escrito el {made}.",
    },
}
HOME_TOPICS = ["pain", "dressing", "activity", "lifting", "driving", "brace"]
HELP_TOPICS = ["emergency", "call_us"]


def _topic(site: Any, language: str, topic: str) -> str:
    blocks = site.discharge_blocks if isinstance(site.discharge_blocks, dict) else {}
    override = (blocks.get(language) or {}).get(topic) if isinstance(blocks.get(language), dict) else None
    if override:
        # A site text saved before it was checked, that still cannot be filled, gives way to the built-in one.
        filled = wording.fill(str(override), ("phone",), phone=site.phone)
        if filled is not None:
            return filled
    row = next(r for r in data.load("discharge")["topic"] if r["id"] == topic)
    return str(row[language]).format(phone=site.phone)


def discharge_letter(case: Case, visit: Visit | None) -> LetterContent:
    site, zone = case.site, case.site.zone
    language = case.patient.preferred_language if case.patient.preferred_language in TEXT else "en"
    t = TEXT[language]
    blocks: list[tuple[str, Any]] = [("h", t["meds_h"])]
    held = restart_lines(case)
    for med in held:
        if med.restart_after:
            when = med.restart_after.astimezone(zone)
            blocks.append(
                (
                    "p",
                    t["restart"].format(drug=med.name, when=f"{short_date(when.date(), language)} {when:%H:%M}"),
                )
            )
        else:
            blocks.append(("p", t["restart_ask"].format(drug=med.name)))
    if not held:
        blocks.append(("p", t["none"]))
    blocks.append(("h", t["home_h"]))
    blocks.append(("ul", [_topic(site, language, topic) for topic in HOME_TOPICS]))
    blocks.append(("h", t["visit_h"]))
    if visit is not None:
        start = visit.start.astimezone(zone)
        blocks.append(
            (
                "p",
                t["visit"].format(date=long_date(start.date(), language), time=f"{start:%H:%M}", site=site.name),
            )
        )
    else:
        blocks.append(("p", t["visit_none"]))
    blocks.append(("h", t["help_h"]))
    blocks.append(("ul", [_topic(site, language, topic) for topic in HELP_TOPICS]))
    footer = t["footer"].format(
        name=f"{case.patient.given_name} {case.patient.family_name}",
        made=long_date(clock.current().astimezone(zone).date(), language),
    )
    return LetterContent(title=t["title"], language=language, blocks=tuple(blocks), footer=footer)
