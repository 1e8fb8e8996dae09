"""Dates and times in plain words for patients, in English or Spanish, in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime

DAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


def long_date(day: date, language: str = "en") -> str:
    """``Monday 7 December 2026`` / ``lunes 7 de diciembre de 2026``."""
    lang = language if language in DAYS else "en"
    name, month = DAYS[lang][day.weekday()], MONTHS[lang][day.month - 1]
    if lang == "es":
        return f"{name} {day.day} de {month} de {day.year}"
    return f"{name} {day.day} {month} {day.year}"


def short_date(day: date, language: str = "en") -> str:
    """``Monday 7 December`` / ``lunes 7 de diciembre`` (the year is clear from the letter)."""
    lang = language if language in DAYS else "en"
    name, month = DAYS[lang][day.weekday()], MONTHS[lang][day.month - 1]
    return f"{name} {day.day} de {month}" if lang == "es" else f"{name} {day.day} {month}"


day_words = long_date


def time_words(moment: datetime) -> str:
    """24-hour time, as on every hospital letter (no am/pm mix-ups)."""
    return moment.strftime("%H:%M")
