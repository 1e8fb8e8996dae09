"""The patient's instruction letter after the call, in plain words, in English or Spanish.

Sentences are ours; a site may add its own opening and closing paragraphs per language (Site.letter_blocks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kyphos import clock
from kyphos.messaging.letters import LetterContent
from kyphos.messaging.words import DAYS, long_date, short_date
from kyphos.precall.models import DriverStatus, ImagingStatus, PreCall
from kyphos.rules import precall as precall_rules
from kyphos.rules.medicines import catalogue

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your kyphoplasty: what to do before you come",
        "when_h": "When and where",
        "when": "Your procedure is on {date}. Please arrive at {arrival} at {site}{address}.",
        "stay": "Plan to stay about one night in hospital. Most people feel less pain within one or two days.",
        "meds_h": "Your medicines",
        "never_stop": "Do not stop any medicine unless your doctor has agreed.",
        "hold": "{drug}: take your last dose on {day} {part} (no later than {time}).",
        "skip": "Do not take it on {days}.",
        "stopped": "{drug}: do not take any more before the procedure.",
        "skip_same_day": "After that, do not take it before the procedure.",
        "restart": "Start it again only when your doctor tells you, usually from {when}.",
        "restart_ask": "Start it again only when your doctor tells you.",
        "agreed": "Your doctor has agreed this plan.",
        "pending": "We are checking this plan with your doctor and will call you if it changes.",
        "decide": "{drug}: we will talk with your doctor about this medicine and call you. Do not stop it on your own.",
        "keep": "Keep taking your other medicines as usual: {names}.",
        "glp1": "{drug}: most people keep taking it. If your dose was just raised, or you feel sick or bloated, "
        "tell us: you may need clear drinks only on the day before.",
        "food_h": "Eating and drinking",
        "fatty": "Fatty or fried food and meat: last by {time}.",
        "light": "A light meal (toast, a clear drink): last by {time}.",
        "clear": "Clear drinks (water, clear apple juice, black tea or coffee): last by {time}.",
        "nothing": "After that, nothing to eat or drink.",
        "driver_h": "Getting home",
        "driver_yes": "You cannot drive yourself home. {name} will take you home.",
        "driver_no": "You told us no one can drive you. We will arrange your transport. Questions: call us on {phone}.",
        "scans_h": "Your scans",
        "scans_bring": "Please bring your {what}{media}{source}.",
        "scans_have": "We already have your scans. You do not need to bring them.",
        "scans_none": "You do not need to bring any scans.",
        "pregnancy": "If there is any chance you are pregnant, or you are breastfeeding, tell us before the procedure.",
        "help_h": "Questions",
        "help": "Call us on {phone}, Monday to Friday during office hours.",
        "footer": "For {name}, born {born}. Written on {made}.",
        "morning": "in the morning",
        "afternoon": "in the afternoon",
        "evening": "in the evening",
        "and": "and",
        "or": "or",
        "from": " from {place}",
        "mri": "MRI",
        "ct": "CT",
        "xray": "X-rays",
        "scans": "scans",
        "films": "films",
        "reports": "reports",
        "cd": "CD",
    },
    "es": {
        "title": "Su cifoplastia: qué hacer antes de venir",
        "when_h": "Cuándo y dónde",
        "when": "Su procedimiento es el {date}. Por favor, llegue a las {arrival} a {site}{address}.",
        "stay": "Cuente con pasar una noche en el hospital. La mayoría de las personas tiene menos dolor en uno o dos "
        "días.",
        "meds_h": "Sus medicinas",
        "never_stop": "No deje ninguna medicina sin que su médico esté de acuerdo.",
        "hold": "{drug}: tome la última dosis el {day} {part} (a más tardar a las {time}).",
        "skip": "No la tome el {days}.",
        "stopped": "{drug}: no tome más antes del procedimiento.",
        "skip_same_day": "Después, no la tome antes del procedimiento.",
        "restart": "Vuelva a tomarla solo cuando su médico se lo diga, normalmente a partir del {when}.",
        "restart_ask": "Vuelva a tomarla solo cuando su médico se lo diga.",
        "agreed": "Su médico está de acuerdo con este plan.",
        "pending": "Estamos revisando este plan con su médico y le llamaremos si cambia.",
        "decide": "{drug}: hablaremos con su médico sobre esta medicina y le llamaremos. No la deje por su cuenta.",
        "keep": "Siga tomando sus otras medicinas como siempre: {names}.",
        "glp1": "{drug}: la mayoría de las personas sigue tomándola. Si le subieron la dosis hace poco, o tiene "
        "náuseas "
        "o se siente hinchado, díganoslo: quizás deba tomar solo líquidos claros el día anterior.",
        "food_h": "Comida y bebida",
        "fatty": "Comida grasosa o frita y carne: como máximo hasta las {time}.",
        "light": "Una comida ligera (pan tostado, una bebida clara): como máximo hasta las {time}.",
        "clear": "Bebidas claras (agua, jugo de manzana claro, té o café sin leche): como máximo hasta las {time}.",
        "nothing": "Después, no coma ni beba nada.",
        "driver_h": "Cómo volver a casa",
        "driver_yes": "No puede manejar usted. {name} le llevará a casa.",
        "driver_no": "Nos dijo que nadie puede llevarle. Nosotros organizaremos su transporte. Preguntas: llámenos al "
        "{phone}.",
        "scans_h": "Sus estudios de imagen",
        "scans_bring": "Por favor, traiga sus {what}{media}{source}.",
        "scans_have": "Ya tenemos sus estudios. No necesita traerlos.",
        "scans_none": "No necesita traer ningún estudio.",
        "pregnancy": "Si existe alguna posibilidad de que esté embarazada, o si está amamantando, díganoslo antes del "
        "procedimiento.",
        "help_h": "Preguntas",
        "help": "Llámenos al {phone}, de lunes a viernes en horario de oficina.",
        "footer": "Para {name}, nacido/a el {born}. Escrito el {made}.",
        "morning": "por la mañana",
        "afternoon": "por la tarde",
        "evening": "por la noche",
        "and": "y",
        "or": "ni",
        "from": " de {place}",
        "mri": "resonancias (MRI)",
        "ct": "tomografías (CT)",
        "xray": "radiografías",
        "scans": "estudios",
        "films": "placas",
        "reports": "informes",
        "cd": "CD",
    },
}


def language_of(call: PreCall) -> str:
    return call.case.patient.preferred_language if call.case.patient.preferred_language in TEXT else "en"


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
    t = TEXT[language]
    blocks_conf: dict[str, Any] = (site.letter_blocks or {}).get(language, {})
    start = appointment.start.astimezone(zone)
    arrival = appointment.arrival_at.astimezone(zone)
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
                arrival=f"{arrival:%H:%M}",
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
                restart = med.restart_after.astimezone(zone)
                lines.append(t["restart"].format(when=f"{short_date(restart.date(), language)} {restart:%H:%M}"))
            else:
                lines.append(t["restart_ask"])
            lines.append(t["agreed"] if med.agreed else t["pending"])
            blocks.append(("p", " ".join(lines)))
        elif med.plan and med.hold and med.last_dose:
            last = med.last_dose.astimezone(zone)
            lines = [
                t["hold"].format(
                    drug=med.name,
                    day=short_date(last.date(), language),
                    part=_part_of_day(last, t),
                    time=f"{last:%H:%M}",
                )
            ]
            skipped = []
            day = last.date() + timedelta(days=1)
            while day <= start.date():
                skipped.append(DAYS[language][day.weekday()])
                day += timedelta(days=1)
            lines.append(t["skip"].format(days=_join(skipped, t["or"])) if skipped else t["skip_same_day"])
            if med.restart_after:
                restart = med.restart_after.astimezone(zone)
                lines.append(t["restart"].format(when=f"{short_date(restart.date(), language)} {restart:%H:%M}"))
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
                t["fatty"].format(time=_clock(arrival - timedelta(hours=hours["fatty_meal_hours"]), start, language)),
                t["light"].format(time=_clock(arrival - timedelta(hours=hours["light_meal_hours"]), start, language)),
                t["clear"].format(
                    time=_clock(arrival - timedelta(hours=hours["clear_liquids_hours"]), start, language)
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
        made=long_date(clock.current().astimezone(zone).date(), language),
    )
    return LetterContent(title=t["title"], language=language, blocks=tuple(blocks), footer=footer)


def _clock(moment: datetime, procedure: datetime, language: str) -> str:
    """A time, with the day named when it is not the procedure day (the evening before)."""
    if moment.date() == procedure.date():
        return f"{moment:%H:%M}"
    return f"{moment:%H:%M} ({short_date(moment.date(), language)})"


def _is_glp1(drug_id: str) -> bool:
    drug = catalogue().get(drug_id)
    return bool(drug and drug.is_glp1)
