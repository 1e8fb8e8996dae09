"""One base class for every refusal a person (or another system) can act on.

A ``KyphosError`` carries a stable ``code`` (for HL7 ACKs, FHIR OperationOutcomes and tests), a message a person
reads, and, when one input is to blame, the name of that ``field``. Each edge maps it once:

- the web UI puts the message next to its field, or at the top of the form (``formfields.put_errors``);
- every ``kyphos`` command prints one line on stderr and exits with status 2 (``kyphos.commands``);
- the coming HL7 listener answers AE/AR and the FHIR API an OperationOutcome with the same code and text.

This module is pure Python so that ``rules/`` (which imports no Django) can raise these errors too.
"""

from __future__ import annotations

from collections.abc import Callable


def _untranslated(message: str) -> str:
    return message


# How a sentence reaches the reader's language. Pure Python here; Django's ``gettext`` is installed when the
# project starts (``kyphos.apps``), so a refusal from rules/ is read in the language active where it is shown.
_translate: Callable[[str], str] = _untranslated


def translate_with(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


class KyphosError(Exception):
    """A refusal with a code and a message; nothing was changed."""

    code = "invalid"

    def __init__(self, message: object = "", *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())
        self.field = field
        if code:
            self.code = code

    @property
    def message(self) -> str:
        """The message in the language active now (a lazy string or a ``Text`` is translated when read)."""
        if not self.args:
            return ""
        message = self.args[0]
        return _translate(message) if type(message) is str else str(message)

    def __str__(self) -> str:
        return self.message


class InvalidInput(KyphosError):
    """The input cannot be used."""

    code = "invalid"


class Refused(KyphosError):
    """The move or change is not allowed in the case's current state."""

    code = "refused"


class Conflict(KyphosError):
    """Someone else changed the record first."""

    code = "conflict"


class Forbidden(KyphosError):
    """The acting person's roles do not allow this."""

    code = "forbidden"


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it.

    Pure Python, so ``rules/`` can mark the sentences it returns; Django's ``makemessages`` finds the calls by this
    name, and the edge that shows the sentence translates it into the reader's language.
    """
    return message


class Text:
    """A sentence to translate when it is shown, with named values:
    ``Text(gettext_noop("Enter a number from {low} to {high}."), low=0, high=10)`` (the ``gettext_noop`` lets
    makemessages find it). ``str()`` translates ``msgid`` into the language active then, and fills in the values."""

    def __init__(self, msgid: str, **values: object) -> None:
        self.msgid = msgid
        self.values = values

    def __str__(self) -> str:
        return _translate(self.msgid).format(**self.values)

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        # Equal to another Text with the same sentence and values, and to its sentence as read now.
        if isinstance(other, Text):
            return (self.msgid, self.values) == (other.msgid, other.values)
        return isinstance(other, str) and str(self) == other

    def __hash__(self) -> int:
        return hash(str(self))
