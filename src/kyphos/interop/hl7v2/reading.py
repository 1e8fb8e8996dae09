"""Reading an HL7 v2 message as interface engines really send them, then parsing it with python-hl7.

Tolerated: a byte-order mark; segments ended by CR, LF or CRLF; trailing whitespace; the delimiters a message
declares in MSH-1 and MSH-2; the character sets of MSH-18 (ASCII, 8859/1, UNICODE UTF-8; none given: UTF-8, else
Latin-1); versions 2.2 to 2.8. What cannot be read raises ``Unreadable`` naming the segment and field to blame
(HL7 v2.5.1 chapter 2, 2.5 "Message construction rules" and table 0357 for the error codes)."""

from __future__ import annotations

from dataclasses import dataclass

import hl7

BOM = b"\xef\xbb\xbf"
VERSIONS = ("2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8")
# MSH-18 values (HL7 table 0211) and the Python codec for each.
CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
}
# HL7 table 0357: message error condition codes.
REQUIRED_MISSING = "101"
DATA_TYPE_ERROR = "102"
UNSUPPORTED_VERSION = "203"
SEGMENT_SEQUENCE = "100"


@dataclass(frozen=True)
class Header:
    """The MSH fields Kyphos acts on."""

    field_separator: str
    encoding_characters: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_type: str  # "ADT^A01"
    control_id: str
    processing_id: str
    version: str
    accept_ack_type: str  # MSH-15: set only in enhanced acknowledgement mode
    application_ack_type: str  # MSH-16
    charset: str  # MSH-18 as sent
    codec: str  # the Python codec it was read with

    @property
    def code(self) -> str:
        return self.message_type.split("^")[0]

    @property
    def event(self) -> str:
        parts = self.message_type.split("^")
        return parts[1] if len(parts) > 1 else ""

    @property
    def enhanced(self) -> bool:
        return bool(self.accept_ack_type or self.application_ack_type)


class Unreadable(Exception):  # noqa: N818 - a refusal with a place, as the ACK's ERR segment gives it
    def __init__(self, reason: str, *, segment: str = "MSH", field: int | None = None, code: str = DATA_TYPE_ERROR):
        super().__init__(reason)
        self.reason = reason
        self.segment = segment
        self.field = field
        self.code = code
        self.partial: dict[str, str] = {}  # whatever MSH fields could be read, for the ACK

    @property
    def location(self) -> str:
        return f"{self.segment}^1^{self.field}" if self.field else f"{self.segment}^1"


def _first_segment(data: bytes) -> bytes:
    end = min((i for i in (data.find(b"\r"), data.find(b"\n")) if i >= 0), default=len(data))
    return data[:end]


def _delimiter(char: str) -> bool:
    """A delimiter is a printable ASCII character that is neither a letter, a digit nor a space (HL7 v2.5.1 2.5.4):
    the ACK repeats it, so it must mean the same in every character set."""
    return len(char) == 1 and "!" <= char <= "~" and not char.isalnum()


def _msh_fields(segment: bytes, separator: bytes) -> list[bytes]:
    """MSH-n is ``fields[n]``: MSH-1 is the separator itself, so it is put back in its place."""
    parts = segment.split(separator)
    return [parts[0], separator, *parts[1:]]


def _field(fields: list[bytes], n: int) -> str:
    return fields[n].decode("latin-1").strip() if len(fields) > n else ""


def read(raw: bytes) -> tuple[Header, hl7.Message]:
    """The header and the parsed message, or ``Unreadable`` with the reason and where."""
    data = raw[len(BOM) :] if raw.startswith(BOM) else raw
    data = data.strip(b" \t\r\n")
    if not data.startswith(b"MSH") or len(data) < 8:
        raise Unreadable("The message does not start with an MSH segment.", code=SEGMENT_SEQUENCE)
    separator = data[3:4]
    if not _delimiter(separator.decode("latin-1")):
        raise Unreadable("MSH-1 (the field separator) is not a separator character.", field=1)
    fields = _msh_fields(_first_segment(data), separator)
    partial = {
        "sending_application": _field(fields, 3),
        "sending_facility": _field(fields, 4),
        "receiving_application": _field(fields, 5),
        "receiving_facility": _field(fields, 6),
        "message_type": _field(fields, 9),
        "control_id": _field(fields, 10),
        "processing_id": _field(fields, 11),
        "version": _field(fields, 12),
        "field_separator": separator.decode("latin-1"),
        "encoding_characters": _field(fields, 2),
    }

    def refuse(reason: str, field: int | None, code: str = REQUIRED_MISSING) -> Unreadable:
        error = Unreadable(reason, field=field, code=code)
        error.partial = partial
        return error

    encoding = partial["encoding_characters"]
    if (
        len(encoding) < 4
        or len(set(encoding[:4] + partial["field_separator"])) < 5
        or not all(_delimiter(c) for c in encoding[:4])
    ):
        partial["encoding_characters"] = ""  # the ACK then uses the standard delimiters
        raise refuse("MSH-2 (the encoding characters) must give four different delimiters.", 2, DATA_TYPE_ERROR)
    charset = _field(fields, 18).split("~")[0].split("^")[0].upper()
    codec = CHARSETS.get(charset) if charset else "utf-8"
    if codec is None:
        raise refuse(f"MSH-18: the character set {charset[:20]!r} is not supported.", 18, DATA_TYPE_ERROR)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if charset:
            raise refuse(f"The message is not valid {charset} text (MSH-18).", 18, DATA_TYPE_ERROR) from None
        text, codec = data.decode("latin-1"), "latin-1"  # no character set given: the common legacy one
    if "\x00" in text:
        raise refuse("The message holds a NUL character.", None, DATA_TYPE_ERROR)
    segments = [s.rstrip() for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r")]
    text = "\r".join(s for s in segments if s)
    for n, name in ((9, "MSH-9 (the message type)"), (10, "MSH-10 (the control id)"), (12, "MSH-12 (the version)")):
        if not partial[{9: "message_type", 10: "control_id", 12: "version"}[n]]:
            raise refuse(f"{name} is missing.", n)
    component = encoding[0]
    partial["message_type"] = "^".join(partial["message_type"].split(component)[:2])
    version = partial["version"].split(component)[0]
    partial["version"] = version
    if not version.startswith(VERSIONS):
        raise refuse(f"MSH-12: version {version[:12]!r} is not supported (2.2 to 2.8).", 12, UNSUPPORTED_VERSION)
    try:
        message = hl7.parse(text)
    except Exception as exc:  # noqa: BLE001 - python-hl7 raises several kinds on malformed text
        raise refuse(f"The message cannot be parsed ({type(exc).__name__}).", None, DATA_TYPE_ERROR) from None
    header = Header(
        field_separator=partial["field_separator"],
        encoding_characters=encoding,
        sending_application=partial["sending_application"],
        sending_facility=partial["sending_facility"],
        receiving_application=partial["receiving_application"],
        receiving_facility=partial["receiving_facility"],
        message_type=partial["message_type"].replace(component, "^"),
        control_id=partial["control_id"],
        processing_id=partial["processing_id"],
        version=version,
        accept_ack_type=_field(fields, 15),
        application_ack_type=_field(fields, 16),
        charset=charset,
        codec=codec,
    )
    return header, message
