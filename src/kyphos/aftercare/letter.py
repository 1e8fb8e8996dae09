"""The discharge letter: going home, restarting medicines, activity, red flags, the follow-up visit."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from kyphos import when
from kyphos.aftercare.selectors import restart_lines
from kyphos.messaging.letters import LetterContent, letter_language, words_in
from kyphos.pathway.models import Case
from kyphos.rules import data, wording
from kyphos.scheduling.models import Visit
from kyphos.when import day_and_time, long_date, time_words

WORDS: dict[str, Promise] = {  # in the letter's language (Django's catalogue, context "discharge letter")
    "title": pgettext_lazy("discharge letter", "Going home after your kyphoplasty"),
    "meds_h": pgettext_lazy("discharge letter", "Your medicines"),
    "restart": pgettext_lazy("discharge letter", "{drug}: start again from {when}, if your doctor agrees."),
    "restart_ask": pgettext_lazy("discharge letter", "{drug}: ask your doctor when to start again."),
    "none": pgettext_lazy("discharge letter", "Keep taking your usual medicines."),
    "home_h": pgettext_lazy("discharge letter", "At home"),
    "visit_h": pgettext_lazy("discharge letter", "Your follow-up visit"),
    "visit": pgettext_lazy("discharge letter", "Your visit with the radiologist is on {date} at {time}, at {site}."),
    "visit_none": pgettext_lazy(
        "discharge letter",
        "We will call you to book your visit with the radiologist, 7 to 14 days after the procedure.",
    ),
    "help_h": pgettext_lazy("discharge letter", "When to get help"),
    "footer": pgettext_lazy("discharge letter", "For {name}. Written on {made}."),
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
    language = letter_language(case.patient.preferred_language)
    t = words_in(language, WORDS)
    blocks: list[tuple[str, Any]] = [("h", t["meds_h"])]
    held = restart_lines(case)
    for med in held:
        if med.restart_after:
            restart = when.local(med.restart_after, zone)
            blocks.append(
                (
                    "p",
                    t["restart"].format(drug=med.name, when=day_and_time(restart, site, language)),
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
        start = when.local(visit.start, zone)
        blocks.append(
            (
                "p",
                t["visit"].format(
                    date=long_date(start.date(), language), time=time_words(start, site, language), site=site.name
                ),
            )
        )
    else:
        blocks.append(("p", t["visit_none"]))
    blocks.append(("h", t["help_h"]))
    blocks.append(("ul", [_topic(site, language, topic) for topic in HELP_TOPICS]))
    footer = t["footer"].format(
        name=f"{case.patient.given_name} {case.patient.family_name}",
        made=long_date(when.today(zone), language),
    )
    return LetterContent(title=t["title"], language=language, blocks=tuple(blocks), footer=footer)
