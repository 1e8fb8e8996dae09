"""``kyphos reset-second-factor USERNAME``: remove a user's authenticator app and recovery codes (a lost phone).

They set up a new app at their next sign-in. Audited as done from the command line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kyphos.audit.actor import Actor
from kyphos.commands import KyphosCommand
from kyphos.errors import InvalidInput
from kyphos.web import second_factor


class Command(KyphosCommand):
    help = "Reset a user's second factor (they set it up again at their next sign-in)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise InvalidInput(_("There is no user %(name)s.") % {"name": options["username"]})
        removed = second_factor.reset(Actor.system("command line"), user)
        self.stdout.write(
            _("Second factor reset for %(name)s (%(count)s devices removed).")
            % {"name": user.username, "count": removed}
        )
