"""Django's translation machinery at the edge: what rules/ and services say, in the reader's language.

Services mark their sentences with ``gettext_lazy``; rules/ (pure Python) marks them with ``errors.gettext_noop``
or returns an ``errors.Text`` with values. ``lazy`` turns either into a lazy string that is translated when it is
shown, in the language active then: the patient's on their own pages, the recipient's in a letter or message.
Catalogues: ``src/kyphos/locale/<language>/LC_MESSAGES/django.po`` (compiled by ``make install``).
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from kyphos.errors import Text


def lazy(message: Any) -> Any:
    """A sentence from rules/ or a service as a lazy, translatable string."""
    if isinstance(message, Promise):
        return message
    if isinstance(message, Text):
        return format_lazy(gettext_lazy(message.msgid), **message.values)
    return gettext_lazy(str(message))
