"""Django's translation machinery at the edge: what rules/ and services say, in the reader's language.

Services mark their sentences with ``gettext_lazy``; rules/ (pure Python) marks them with ``errors.gettext_noop``
or returns an ``errors.Text`` with values. ``lazy`` turns either into a lazy string that is translated when it is
shown, in the language active then: the patient's on their own pages, the recipient's in a letter or message.
Catalogues: ``src/kyphos/locale/<language>/LC_MESSAGES/django.po`` (compiled by ``make install``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from kyphos.errors import Text

# A sentence a person reads: a plain string, or a lazy one translated when it is shown.
Words = str | Promise


def lazy(message: Any) -> Any:
    """A sentence from rules/ or a service as a lazy, translatable string."""
    if isinstance(message, Promise):
        return message
    if isinstance(message, Text):
        return format_lazy(gettext_lazy(message.msgid), **message.values)
    return gettext_lazy(str(message))


def stored_language() -> AbstractContextManager[None]:
    """Write what a service stores (a timeline summary, a task's note) in the site's language.

    A service called from a patient's page in Spanish must still leave the English (the site's) record the staff
    read: the portal calls its services inside this, and shows their refusals after it, in the patient's language.
    """
    return translation.override(settings.LANGUAGE_CODE)
