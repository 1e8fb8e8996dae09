"""The project itself as an app: its catalogue (``locale/``) and the start-up that every room relies on."""

from django.apps import AppConfig
from django.utils.translation import gettext

from kyphos import errors, formfields


class KyphosConfig(AppConfig):
    name = "kyphos"
    label = "kyphos"
    verbose_name = "Kyphos"

    def ready(self) -> None:
        # A refusal raised in rules/ (pure Python) is read in the language active where it is shown.
        errors.translate_with(gettext)
        # Every form speaks our words, not Django's defaults (this app is first in INSTALLED_APPS: its ready() runs
        # before the admin's autodiscovery defines the admin's forms).
        formfields.use_our_words()
