"""The words of the patient's pages (plain language, reading age about 11), translated by Django's i18n.

Each is a lazy string: it is put into the language active while the page is drawn (the patient's, see
``portal.views``). The translations live in ``src/kyphos/locale/<language>/LC_MESSAGES/django.po``.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The languages a patient can read their pages in: one .po file each (English is the source language).
PATIENT_LANGUAGES = ("en", "es")

WORDS: dict[str, Promise] = {
    # The name of the language the page is in, and (other_lang) the name of the one the switch leads to.
    "lang_name": _("English"),
    "other_lang": _("Español"),
    "title": _("Your kyphoplasty"),
    "hello": _("Hello {name}"),
    "call_us": _("Questions? Call us on {phone}."),
    "call_us_short": _("Call us"),
    "appt_h": _("Your appointment"),
    "date": _("Date"),
    "arrive": _("Please arrive at"),
    "procedure_time": _("Procedure time"),
    "where": _("Where"),
    "directions": _("How to find us"),
    "add_calendar": _("Add to my calendar"),
    "letter": _("Read your instructions"),
    "letter_pdf": _("Print your instructions (PDF)"),
    "checklist_h": _("Your checklist"),
    "checklist_intro": _("Tick each one when it is done. Our nurses can see your answers."),
    "checklist_done": _("{n} of {total} done"),
    "checklist_open": _("Open your checklist"),
    "save": _("Save"),
    "saved": _("Saved. Thank you."),
    "back": _("Back to your page"),
    "ck_driver": _("A driver is arranged to take me home (you cannot drive yourself)"),
    "ck_imaging": _("My outside images (films, CDs, reports) are ready to bring"),
    "ck_medicines": _("I understand the plan for my medicines (I stop nothing unless my doctor says so)"),
    "ck_fasting": _("I understand when to stop eating and drinking"),
    "no_appt": _("You do not have a date yet. We will contact you."),
    "after_h": _("After your procedure"),
    "diary_h": _("Your symptom diary"),
    "diary_intro": _("Please fill this in once a day. It takes about one minute."),
    "diary_open": _("Write today's diary entry"),
    "diary_closed": _("Your diary is closed."),
    "diary_entries": _("Your entries"),
    "no_entries": _("No entries yet."),
    "flags_h": _("Please answer every question"),
    "yes": _("Yes"),
    "no": _("No"),
    "temperature": _("Your temperature in {unit}, if you measured it (for example {example})"),
    "note": _("Anything else you want to tell us (optional)"),
    "admitted": _("Since you went home, have you been admitted to a hospital?"),
    "send": _("Send my diary entry"),
    "errors_h": _("Please check your answers"),
    "pain_label": _("Pain {n}"),
    "visit_h": _("Your follow-up visit"),
    "visit_none": _("We will call you to book your follow-up visit, 7 to 14 days after the procedure."),
    "questions_h": _("Questions before your visit"),
    "questions_open": _("Answer a few questions"),
    "questions_intro": _("Please answer these questions about how you are now."),
    "questions_done": _("Thank you. Your answers have been sent."),
    "dob_h": _("Please confirm who you are"),
    "dob_label": _("Your date of birth"),
    "dob_hint": _("For example 27 3 1948"),
    "dob_day": _("Day"),
    "dob_month": _("Month"),
    "dob_year": _("Year"),
    "dob_incomplete": _("Enter the day, month and year you were born, as numbers."),
    "dob_wrong": _("That date of birth does not match. Please try again."),
    "dob_send": _("Continue"),
    "emergency_h": _("Call {number} now"),
    "emergency_body": _(
        "Your answers may mean a serious problem. Call emergency services ({number}) now. Do not wait and do not drive "
        "yourself."
    ),
    "emergency_call": _("Call {number}"),
    "emergency_after": _("We have also told our team. When you are safe, you can call us on {phone}."),
    "same_day_h": _("Please call us today"),
    "same_day_body": _(
        "Your answers need a check today. Please call us on {phone}. If it is outside office hours or you feel worse, "
        "go to the emergency department."
    ),
    "review_body": _("Thank you. A doctor will look at your answers. If you feel worse, call us on {phone}."),
    "thanks": _("Thank you. Your entry is saved."),
    "invalid_h": _("This link does not work"),
    "invalid_call": _("Call {site} on {phone}."),
    "letter_none": _("Your instructions are not ready yet. A nurse will call you before the procedure."),
    "baseline_h": _("How you are now"),
    "baseline_intro": _("Before the procedure, please tell us how you are now, so we can see what changes."),
    "skip": _("Skip to content"),
    "pain_word": _("Pain"),
    "warning_sign": _("warning sign"),
    "letter_h": _("Your letter"),
}
