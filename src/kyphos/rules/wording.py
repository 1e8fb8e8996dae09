"""A site's own wording with placeholders such as ``{phone}``: checked when saved, filled safely when shown.

Sites replace some sentences of the letters (per language and topic). Their text is data, not code: only the
placeholders named for that sentence may appear, braces must pair, and a text that still fails (saved before
this check existed) is never allowed to break a page; the built-in sentence is shown instead.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

from kyphos.errors import InvalidInput, Text, gettext_noop

LANGUAGES = frozenset({"en", "es"})


class WordingError(InvalidInput):
    """A site text that cannot be used as it stands."""


def placeholders(text: str) -> set[str]:
    """The names of the ``{placeholders}`` in ``text``; refuse a stray or unpaired brace."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise WordingError(gettext_noop("has a single { or } (write {{ or }} for a brace itself)")) from None


def check_text(text: object, allowed: Iterable[str]) -> None:
    if not isinstance(text, str):
        raise WordingError(gettext_noop("must be text"))
    names = placeholders(text)
    unknown = sorted(names - set(allowed))
    if unknown:
        usable = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
        raise WordingError(
            Text(
                gettext_noop("uses {{{unknown}}}, which is not a placeholder here (usable: {usable})"),
                unknown=unknown[0],
                usable=usable,
            )
        )
    if any(not name.isidentifier() for name in names):
        raise WordingError(gettext_noop("has an empty or malformed {placeholder}"))


def check_blocks(value: object, topics: Mapping[str, Iterable[str] | None], what: str) -> None:
    """Check ``{"en": {"topic": "text"}}``: known languages and topics, text with only that topic's placeholders.

    A topic mapped to None is shown as written (no placeholders are filled, braces are plain characters)."""
    if not isinstance(value, dict):
        raise WordingError(Text(gettext_noop('{what} must look like {{"en": {{"topic": "text"}}}}'), what=what))
    for language, texts in value.items():
        if language not in LANGUAGES:
            raise WordingError(
                Text(
                    gettext_noop("{what}: {language!r} is not a language Kyphos writes ({names})"),
                    what=what,
                    language=language,
                    names=", ".join(sorted(LANGUAGES)),
                )
            )
        if not isinstance(texts, dict):
            raise WordingError(
                Text(gettext_noop("{what}: {language} must map topics to text"), what=what, language=language)
            )
        for topic, text in texts.items():
            if topic not in topics:
                raise WordingError(
                    Text(
                        gettext_noop("{what}: {language}.{topic} is not a topic ({names})"),
                        what=what,
                        language=language,
                        topic=topic,
                        names=", ".join(sorted(topics)),
                    )
                )
            allowed = topics[topic]
            try:
                if allowed is None:
                    if not isinstance(text, str):
                        raise WordingError(gettext_noop("must be text"))
                else:
                    check_text(text, allowed)
            except WordingError as exc:
                raise WordingError(f"{what}: {language}.{topic} {exc.message}") from None


def fill(text: str, allowed: Iterable[str], **values: str) -> str | None:
    """``text`` with its placeholders filled, or None when it cannot be used (the caller shows its own text)."""
    try:
        check_text(text, allowed)
    except WordingError:
        return None
    return text.format(**{name: values.get(name, "") for name in allowed})
