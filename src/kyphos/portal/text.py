"""The words of the patient's pages, in English and Spanish (plain language, reading age about 11)."""

from __future__ import annotations

import re

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "lang_name": "English",
        "other_lang": "Español",
        "title": "Your kyphoplasty",
        "hello": "Hello {name}",
        "call_us": "Questions? Call us on {phone}.",
        "call_us_short": "Call us",
        "emergency_number": "911",
        "appt_h": "Your appointment",
        "date": "Date",
        "arrive": "Please arrive at",
        "procedure_time": "Procedure time",
        "where": "Where",
        "directions": "How to find us",
        "add_calendar": "Add to my calendar",
        "letter": "Read your instructions",
        "letter_pdf": "Print your instructions (PDF)",
        "checklist_h": "Your checklist",
        "checklist_intro": "Tick each one when it is done. Our nurses can see your answers.",
        "checklist_done": "{n} of {total} done",
        "checklist_open": "Open your checklist",
        "save": "Save",
        "saved": "Saved. Thank you.",
        "back": "Back to your page",
        "ck_driver": "A driver is arranged to take me home (you cannot drive yourself)",
        "ck_imaging": "My outside images (films, CDs, reports) are ready to bring",
        "ck_medicines": "I understand the plan for my medicines (I stop nothing unless my doctor says so)",
        "ck_fasting": "I understand when to stop eating and drinking",
        "no_appt": "You do not have a date yet. We will contact you.",
        "after_h": "After your procedure",
        "diary_h": "Your symptom diary",
        "diary_intro": "Please fill this in once a day. It takes about one minute.",
        "diary_open": "Write today's diary entry",
        "diary_closed": "Your diary is closed.",
        "diary_entries": "Your entries",
        "no_entries": "No entries yet.",
        "flags_h": "Please answer every question",
        "yes": "Yes",
        "no": "No",
        "temperature": "Your temperature in °C, if you measured it (for example 37.2)",
        "note": "Anything else you want to tell us (optional)",
        "send": "Send my diary entry",
        "errors_h": "Please check your answers",
        "pain_label": "Pain {n}",
        "visit_h": "Your follow-up visit",
        "visit_none": "We will call you to book your follow-up visit, 7 to 14 days after the procedure.",
        "questions_h": "Questions before your visit",
        "questions_open": "Answer a few questions",
        "questions_intro": "Please answer these questions about how you are now.",
        "questions_done": "Thank you. Your answers have been sent.",
        "dob_h": "Please confirm who you are",
        "dob_label": "Your date of birth",
        "dob_hint": "For example 1948-03-27 (year-month-day)",
        "dob_wrong": "That date of birth does not match. Please try again.",
        "dob_send": "Continue",
        "emergency_h": "Call {number} now",
        "emergency_body": "Your answers may mean a serious problem. Call emergency services ({number}) now. Do not "
        "wait and do not drive yourself.",
        "emergency_call": "Call {number}",
        "emergency_after": "We have also told our team. When you are safe, you can call us on {phone}.",
        "same_day_h": "Please call us today",
        "same_day_body": "Your answers need a check today. Please call us on {phone}. If it is outside office hours or "
        "you feel worse, go to the emergency department.",
        "review_body": "Thank you. A doctor will look at your answers. If you feel worse, call us on {phone}.",
        "thanks": "Thank you. Your entry is saved.",
        "invalid_h": "This link does not work",
        "letter_none": "Your instructions are not ready yet. A nurse will call you before the procedure.",
        "baseline_h": "How you are now",
        "baseline_intro": "Before the procedure, please tell us how you are now, so we can see what changes.",
        "skip": "Skip to content",
        "pain_word": "Pain",
        "warning_sign": "warning sign",
        "letter_h": "Your letter",
    },
    "es": {
        "lang_name": "Español",
        "other_lang": "English",
        "title": "Su cifoplastia",
        "hello": "Hola {name}",
        "call_us": "¿Preguntas? Llámenos al {phone}.",
        "call_us_short": "Llámenos",
        "emergency_number": "911",
        "appt_h": "Su cita",
        "date": "Fecha",
        "arrive": "Por favor llegue a las",
        "procedure_time": "Hora del procedimiento",
        "where": "Dónde",
        "directions": "Cómo llegar",
        "add_calendar": "Añadir a mi calendario",
        "letter": "Lea sus instrucciones",
        "letter_pdf": "Imprima sus instrucciones (PDF)",
        "checklist_h": "Su lista",
        "checklist_intro": "Marque cada punto cuando esté listo. Nuestras enfermeras ven sus respuestas.",
        "checklist_done": "{n} de {total} listos",
        "checklist_open": "Abra su lista",
        "save": "Guardar",
        "saved": "Guardado. Gracias.",
        "back": "Volver a su página",
        "ck_driver": "Tengo a alguien que me lleve a casa (usted no puede conducir)",
        "ck_imaging": "Tengo listas mis imágenes de fuera (placas, CD, informes) para traerlas",
        "ck_medicines": "Entiendo el plan de mis medicinas (no dejo ninguna a menos que mi médico lo diga)",
        "ck_fasting": "Entiendo cuándo dejar de comer y beber",
        "no_appt": "Todavía no tiene fecha. Nos pondremos en contacto con usted.",
        "after_h": "Después de su procedimiento",
        "diary_h": "Su diario de síntomas",
        "diary_intro": "Por favor complételo una vez al día. Toma más o menos un minuto.",
        "diary_open": "Escribir la nota de hoy",
        "diary_closed": "Su diario está cerrado.",
        "diary_entries": "Sus notas",
        "no_entries": "Todavía no hay notas.",
        "flags_h": "Por favor conteste todas las preguntas",
        "yes": "Sí",
        "no": "No",
        "temperature": "Su temperatura en °C, si la midió (por ejemplo 37,2)",
        "note": "Algo más que quiera decirnos (opcional)",
        "send": "Enviar mi nota",
        "errors_h": "Por favor revise sus respuestas",
        "pain_label": "Dolor {n}",
        "visit_h": "Su visita de seguimiento",
        "visit_none": "Le llamaremos para darle la cita de seguimiento, de 7 a 14 días después del procedimiento.",
        "questions_h": "Preguntas antes de su visita",
        "questions_open": "Conteste unas preguntas",
        "questions_intro": "Por favor conteste estas preguntas sobre cómo se encuentra ahora.",
        "questions_done": "Gracias. Sus respuestas se enviaron.",
        "dob_h": "Por favor confirme quién es usted",
        "dob_label": "Su fecha de nacimiento",
        "dob_hint": "Por ejemplo 1948-03-27 (año-mes-día)",
        "dob_wrong": "Esa fecha de nacimiento no coincide. Inténtelo otra vez.",
        "dob_send": "Continuar",
        "emergency_h": "Llame al {number} ahora",
        "emergency_body": "Sus respuestas pueden indicar un problema grave. Llame ahora a emergencias ({number}). No "
        "espere y no conduzca usted.",
        "emergency_call": "Llamar al {number}",
        "emergency_after": "También avisamos a nuestro equipo. Cuando esté a salvo, puede llamarnos al {phone}.",
        "same_day_h": "Por favor llámenos hoy",
        "same_day_body": "Sus respuestas necesitan revisarse hoy. Por favor llámenos al {phone}. Si es fuera del "
        "horario o se siente peor, vaya a urgencias.",
        "review_body": "Gracias. Un médico revisará sus respuestas. Si se siente peor, llámenos al {phone}.",
        "thanks": "Gracias. Su nota se guardó.",
        "invalid_h": "Este enlace no funciona",
        "letter_none": "Sus instrucciones todavía no están listas. Una enfermera le llamará antes del procedimiento.",
        "baseline_h": "Cómo se encuentra ahora",
        "baseline_intro": "Antes del procedimiento, díganos cómo se encuentra ahora, para ver qué cambia.",
        "skip": "Ir al contenido",
        "pain_word": "Dolor",
        "warning_sign": "señal de alarma",
        "letter_h": "Su carta",
    },
}

# The services answer in English; the patient's pages say the same in the patient's language.
MESSAGES_ES: dict[str, str] = {
    "Answer yes or no.": "Conteste sí o no.",
    "Please answer yes or no.": "Por favor conteste sí o no.",
    "Enter a whole number.": "Escriba un número entero.",
    "Enter a number.": "Escriba un número.",
    "Choose one of the answers.": "Elija una de las respuestas.",
    "This answer is too long or has characters that cannot be stored.": "Esta respuesta es demasiado larga o tiene "
    "caracteres que no se pueden guardar.",
    "Please answer this question.": "Por favor conteste esta pregunta.",
    "This question is not part of the questionnaire.": "Esta pregunta no es parte del cuestionario.",
    "This question is not part of the diary.": "Esta pregunta no es parte del diario.",
    "Enter your temperature in °C, for example 37.2.": "Escriba su temperatura en °C, por ejemplo 37,2.",
    "Enter a temperature in °C between 34 and 43.": "Escriba una temperatura en °C entre 34 y 43.",
    "Please keep your note under 2000 characters.": "Por favor escriba menos de 2000 caracteres.",
    "Your care with this service has ended, so the diary is closed. If you feel unwell, call your doctor.": (
        "Su atención con este servicio terminó, así que el diario está cerrado. Si se siente mal, llame a su médico."
    ),
    "Your diary opens after your procedure.": "Su diario se abre después de su procedimiento.",
    "The checklist is for before the procedure.": "La lista es para antes del procedimiento.",
    "This link is not valid. Please use the latest message we sent you, or call "
    "us.": "Este enlace no es válido. Use el último mensaje que le enviamos, o llámenos.",
    "This link no longer works. Please use the latest message we sent you, or call "
    "us.": "Este enlace ya no funciona. Use el último mensaje que le enviamos, o llámenos.",
    "This link has expired. Please call us and we will send you a new "
    "one.": "Este enlace caducó. Llámenos y le enviaremos uno nuevo.",
    "This link has been locked after too many tries. Please call us for a new one.": "Este enlace se bloqueó después "
    "de demasiados intentos. Llámenos para recibir uno nuevo.",
    "This link no longer works. Please call us and we will send you a new "
    "one.": "Este enlace ya no funciona. Llámenos y le enviaremos uno nuevo.",
}


def say(message: str, language: str) -> str:
    """A service's message in the patient's language (English when there is no translation)."""
    if language != "es":
        return message
    if message in MESSAGES_ES:
        return MESSAGES_ES[message]
    match = re.fullmatch(r"Enter a number from (-?\d+) to (-?\d+)\.", message)
    if match:
        return f"Escriba un número del {match[1]} al {match[2]}."
    match = re.fullmatch(r"At least (\d+) scored questions must be answered for a score\.", message)
    if match:
        return f"Conteste por lo menos {match[1]} preguntas."
    return message
