"""Acknowledgements (HL7 v2.5.1 chapter 2, 2.9 "Message processing rules"; ACK message, MSA and ERR segments).

Original mode: AA (processed), AE (an error the sender can fix and send again), AR (rejected: cannot be read,
unsupported). MSA-2 is the received MSH-10. An error adds an ERR segment: for 2.5 and later ERR-2 (location),
ERR-3 (code, HL7 table 0357), ERR-4 (severity) and ERR-8 (the reason for a person); before 2.5, ERR-1.
Enhanced mode (MSH-15 / MSH-16 present) answers with the commit codes CA / CE / CR.

The ACK is written in the delimiters and character set the message came in. ACK texts are protocol text for the
sending system's analysts, in English, like the standard's own tables."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from kyphos import clock

ENHANCED = {"AA": "CA", "AE": "CE", "AR": "CR"}
DEFAULT_DELIMITERS = ("|", "^~\\&")


@dataclass(frozen=True)
class ErrorAt:
    reason: str
    location: str = ""  # "PID^1^3": segment, sequence, field
    code: str = "207"  # HL7 table 0357: 207 = application internal error


def escape(text: str, field: str = "|", encoding: str = "^~\\&") -> str:
    """HL7 escape sequences for the delimiters inside a text (v2.5.1 2.7.1)."""
    chars = (encoding + "^~\\&")[:4]
    component, repetition, escape_char, sub = chars[0], chars[1], chars[2], chars[3]
    out = text.replace(escape_char, f"{escape_char}E{escape_char}")
    for char, code in ((field, "F"), (component, "S"), (sub, "T"), (repetition, "R")):
        out = out.replace(char, f"{escape_char}{code}{escape_char}")
    return " ".join(out.split())


def build(
    *,
    code: str,
    control_id: str,
    received: dict[str, str],
    our_control_id: str,
    text: str = "",
    error: ErrorAt | None = None,
    enhanced: bool = False,
    codec: str = "utf-8",
) -> bytes:
    """The ACK for a received message (``received``: its MSH fields as far as they could be read)."""
    field = received.get("field_separator") or DEFAULT_DELIMITERS[0]
    encoding = received.get("encoding_characters") or DEFAULT_DELIMITERS[1]
    if len(encoding) < 4 or len(set(encoding[:4] + field)) < 5:
        field, encoding = DEFAULT_DELIMITERS
    component = encoding[0]
    sub = encoding[3]

    def esc(value: str) -> str:
        return escape(value, field, encoding)

    version = received.get("version") or "2.5.1"
    event = (received.get("message_type") or "").split("^")
    ack_code = ENHANCED.get(code, code) if enhanced else code
    msh = [
        "MSH",
        encoding,
        esc(settings.KYPHOS_HL7_APPLICATION),
        esc(settings.KYPHOS_HL7_FACILITY),
        esc(received.get("sending_application", "")),
        esc(received.get("sending_facility", "")),
        clock.current().strftime("%Y%m%d%H%M%S"),
        "",
        component.join(["ACK", esc(event[1]) if len(event) > 1 else "", "ACK"]),
        esc(our_control_id),
        esc(received.get("processing_id") or "P"),
        esc(version),
    ]
    segments = [field.join(msh), field.join(["MSA", ack_code, esc(control_id), esc(text)])]
    if error is not None:
        location = component.join(esc(part) for part in error.location.split("^")) if error.location else ""
        if version[:3] >= "2.5":
            err = ["ERR", "", location, component.join([error.code, "", "HL70357"]), "E", "", "", "", esc(error.reason)]
        else:
            place = (error.location.split("^") + ["", "", ""])[:3]
            err = ["ERR", component.join([*(esc(p) for p in place), sub.join([error.code, "", "HL70357"])])]
        segments.append(field.join(err))
    return ("\r".join(segments) + "\r").encode(codec, errors="replace")
