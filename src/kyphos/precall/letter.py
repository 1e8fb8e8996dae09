"""The patient's instruction letter after the call, in plain words, in English or Spanish.

Sentences are ours; a site may add its own opening and closing paragraphs per language (Site.letter_blocks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from kyphos import clock, when
from kyphos.messaging.letters import LetterContent, letter_language, words_in
from kyphos.precall.models import DriverStatus, ImagingStatus, PreCall
from kyphos.rules import precall as precall_rules
from kyphos.rules.medicines import catalogue
from kyphos.when import day_and_time, long_date, short_date, time_words, weekday_name

WORDS: dict[str, Promise] = {  # in the letter's language (Django's catalogue, context "call letter")
    "title": pgettext_lazy("call letter", "Your kyphoplasty: what to do before you come"),
    "when_h": pgettext_lazy("call letter", "When and where"),
    "when": pgettext_lazy("call letter", "Your procedure is on {date}. Please arrive at {arrival} at {site}{address}."),
    "stay": pgettext_lazy(
        "call letter", "Plan to stay about one night in hospital. Most people feel less pain within one or two days."
    ),
    "meds_h": pgettext_lazy("call letter", "Your medicines"),
    "never_stop": pgettext_lazy("call letter", "Do not stop any medicine unless your doctor has agreed."),
    "hold": pgettext_lazy("call letter", "{drug}: take your last dose on {day} {part} (no later than {time})."),
    "skip": pgettext_lazy("call letter", "Do not take it on {days}."),
    "stopped": pgettext_lazy("call letter", "{drug}: do not take any more before the procedure."),
    "skip_same_day": pgettext_lazy("call letter", "After that, do not take it before the procedure."),
    "restart": pgettext_lazy("call letter", "Start it again only when your doctor tells you, usually from {when}."),
    "restart_ask": pgettext_lazy("call letter", "Start it again only when your doctor tells you."),
    "agreed": pgettext_lazy("call letter", "Your doctor has agreed this plan."),
    "pending": pgettext_lazy(
        "call letter", "We are checking this plan with your doctor and will call you if it changes."
    ),
    "decide": pgettext_lazy(
        "call letter",
        "{drug}: we will talk with your doctor about this medicine and call you. Do not stop it on your own.",
    ),
    "keep": pgettext_lazy("call letter", "Keep taking your other medicines as usual: {names}."),
    "glp1": pgettext_lazy(
        "call letter",
        "{drug}: most people keep taking it. If your dose was just raised, or you feel sick or bloated, tell us: you "
        "may need clear drinks only on the day before.",
    ),
    "food_h": pgettext_lazy("call letter", "Eating and drinking"),
    "fatty": pgettext_lazy("call letter", "Fatty or fried food and meat: last by {time}."),
    "light": pgettext_lazy("call letter", "A light meal (toast, a clear drink): last by {time}."),
    "clear": pgettext_lazy(
        "call letter", "Clear drinks (water, clear apple juice, black tea or coffee): last by {time}."
    ),
    "nothing": pgettext_lazy("call letter", "After that, nothing to eat or drink."),
    "driver_h": pgettext_lazy("call letter", "Getting home"),
    "driver_yes": pgettext_lazy("call letter", "You cannot drive yourself home. {name} will take you home."),
    "driver_no": pgettext_lazy(
        "call letter",
        "You told us no one can drive you. We will arrange your transport. Questions: call us on {phone}.",
    ),
    "scans_h": pgettext_lazy("call letter", "Your scans"),
    "scans_bring": pgettext_lazy("call letter", "Please bring your {what}{media}{source}."),
    "scans_have": pgettext_lazy("call letter", "We already have your scans. You do not need to bring them."),
    "scans_none": pgettext_lazy("call letter", "You do not need to bring any scans."),
    "pregnancy": pgettext_lazy(
        "call letter",
        "If there is any chance you are pregnant, or you are breastfeeding, tell us before the procedure.",
    ),
    "help_h": pgettext_lazy("call letter", "Questions"),
    "help": pgettext_lazy("call letter", "Call us on {phone}, Monday to Friday during office hours."),
    "footer": pgettext_lazy("call letter", "For {name}, born {born}. Written on {made}."),
    "morning": pgettext_lazy("call letter", "in the morning"),
    "afternoon": pgettext_lazy("call letter", "in the afternoon"),
    "evening": pgettext_lazy("call letter", "in the evening"),
    "and": pgettext_lazy("call letter", "and"),
    "or": pgettext_lazy("call letter", "or"),
    "from": pgettext_lazy("call letter", " from {place}"),
    "mri": pgettext_lazy("call letter", "MRI"),
    "ct": pgettext_lazy("call letter", "CT"),
    "xray": pgettext_lazy("call letter", "X-rays"),
    "scans": pgettext_lazy("call letter", "scans"),
    "films": pgettext_lazy("call letter", "films"),
    "reports": pgettext_lazy("call letter", "reports"),
    "cd": pgettext_lazy("call letter", "CD"),
}


def language_of(call: PreCall) -> str:
    return letter_language(call.case.patient.preferred_language)


def _part_of_day(moment: datetime, t: dict[str, str]) -> str:
    return t["morning"] if moment.hour < 12 else t["afternoon"] if moment.hour < 18 else t["evening"]


def _join(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def pre_procedure_letter(call: PreCall) -> LetterContent:
    case = call.case
    site = case.site
    zone = site.zone
    appointment = case.appointment
    assert appointment is not None
    language = language_of(call)
    t = words_in(language, WORDS)
    blocks_conf: dict[str, Any] = (site.letter_blocks or {}).get(language, {})
    start, arrival = when.local(appointment.start, zone), when.local(appointment.arrival_at, zone)
    blocks: list[tuple[str, Any]] = []
    if blocks_conf.get("intro"):
        blocks.append(("p", str(blocks_conf["intro"])))

    blocks.append(("h", t["when_h"]))
    address = f", {site.address}" if site.address else ""
    blocks.append(
        (
            "p",
            t["when"].format(
                date=long_date(start.date(), language),
                arrival=time_words(arrival, site, language),
                site=site.name,
                address=address,
            ),
        )
    )
    blocks.append(("p", t["stay"]))

    blocks.append(("h", t["meds_h"]))
    blocks.append(("p", t["never_stop"]))
    keep: list[str] = []
    for med in call.medications.all():
        if med.plan and med.hold and med.last_dose and med.last_dose <= clock.current():
            # The last safe dose time has passed: stop now (the call checked it was not taken later).
            lines = [t["stopped"].format(drug=med.name)]
            if med.restart_after:
                restart = when.local(med.restart_after, zone)
                lines.append(t["restart"].format(when=day_and_time(restart, site, language)))
            else:
                lines.append(t["restart_ask"])
            lines.append(t["agreed"] if med.agreed else t["pending"])
            blocks.append(("p", " ".join(lines)))
        elif med.plan and med.hold and med.last_dose:
            last = when.local(med.last_dose, zone)
            lines = [
                t["hold"].format(
                    drug=med.name,
                    day=short_date(last.date(), language),
                    part=_part_of_day(last, t),
                    time=time_words(last, site, language),
                )
            ]
            skipped = []
            day = last.date() + timedelta(days=1)
            while day <= start.date():
                skipped.append(weekday_name(day, language))
                day += timedelta(days=1)
            lines.append(t["skip"].format(days=_join(skipped, t["or"])) if skipped else t["skip_same_day"])
            if med.restart_after:
                restart = when.local(med.restart_after, zone)
                lines.append(t["restart"].format(when=day_and_time(restart, site, language)))
            else:
                lines.append(t["restart_ask"])
            lines.append(t["agreed"] if med.agreed else t["pending"])
            blocks.append(("p", " ".join(lines)))
        elif med.plan and med.hold is None:
            blocks.append(("p", t["decide"].format(drug=med.name)))
        else:
            keep.append(med.name)
            if med.drug_id and _is_glp1(med.drug_id):
                blocks.append(("p", t["glp1"].format(drug=med.name)))
    if keep:
        blocks.append(("p", t["keep"].format(names=", ".join(keep))))

    hours = {name: int(item.value) for name, item in precall_rules.fasting_hours().items()}
    blocks.append(("h", t["food_h"]))
    blocks.append(
        (
            "ul",
            [
                t["fatty"].format(
                    time=_clock(arrival - timedelta(hours=hours["fatty_meal_hours"]), start, site, language)
                ),
                t["light"].format(
                    time=_clock(arrival - timedelta(hours=hours["light_meal_hours"]), start, site, language)
                ),
                t["clear"].format(
                    time=_clock(arrival - timedelta(hours=hours["clear_liquids_hours"]), start, site, language)
                ),
                t["nothing"],
            ],
        )
    )

    blocks.append(("h", t["driver_h"]))
    if call.driver_status == DriverStatus.ARRANGED:
        blocks.append(("p", t["driver_yes"].format(name=call.driver_name)))
    else:
        blocks.append(("p", t["driver_no"].format(phone=site.phone)))

    blocks.append(("h", t["scans_h"]))
    if call.imaging_status == ImagingStatus.BRINGING:
        kinds = [
            t[k]
            for k, flag in (("mri", call.imaging_mri), ("ct", call.imaging_ct), ("xray", call.imaging_xray))
            if flag
        ] or [t["scans"]]
        media = [
            t[k]
            for k, flag in (
                ("films", call.imaging_films),
                ("reports", call.imaging_reports),
                ("cd", call.imaging_cd),
            )
            if flag
        ]
        blocks.append(
            (
                "p",
                t["scans_bring"].format(
                    what=_join(kinds, t["and"]),
                    media=f" ({_join(media, t['and'])})" if media else "",
                    source=t["from"].format(place=call.imaging_source) if call.imaging_source else "",
                ),
            )
        )
    elif call.imaging_status == ImagingStatus.RECEIVED:
        blocks.append(("p", t["scans_have"]))
    else:
        blocks.append(("p", t["scans_none"]))
    if call.pregnancy_status != "not_applicable" or call.nursing:
        blocks.append(("p", t["pregnancy"]))

    blocks.append(("h", t["help_h"]))
    blocks.append(("p", t["help"].format(phone=site.phone)))
    if blocks_conf.get("closing"):
        blocks.append(("p", str(blocks_conf["closing"])))
    patient = case.patient
    footer = t["footer"].format(
        name=f"{patient.given_name} {patient.family_name}",
        born=long_date(patient.date_of_birth, language),
        made=long_date(when.today(zone), language),
    )
    return LetterContent(title=t["title"], language=language, blocks=tuple(blocks), footer=footer)


def _clock(moment: datetime, procedure: datetime, site: Any, language: str) -> str:
    """A time, with the day named when it is not the procedure day (the evening before)."""
    if moment.date() == procedure.date():
        return time_words(moment, site, language)
    return f"{time_words(moment, site, language)} ({short_date(moment.date(), language)})"


def _is_glp1(drug_id: str) -> bool:
    drug = catalogue().get(drug_id)
    return bool(drug and drug.is_glp1)
