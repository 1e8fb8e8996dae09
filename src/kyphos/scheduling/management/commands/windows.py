"""``kyphos windows --site HOSP --appointment 2026-12-07T08:00 [--json]``: the call and follow-up windows."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.commands import KyphosCommand, local_time
from kyphos.errors import InvalidInput
from kyphos.rules.windows import call_window, follow_up_window
from kyphos.scheduling.models import Site


class Command(KyphosCommand):
    help = "Print the pre-procedure call window and the follow-up window for an appointment (site local time)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="site code, e.g. HOSP")
        parser.add_argument("--appointment", required=True, help="start in the site's local time, 2026-12-07T08:00")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise InvalidInput(format_lazy(_("unknown site {site!r}"), site=options["site"]))
        start = local_time(options["appointment"], site.zone, "appointment time")
        calendar = site.calendar()
        call, follow = call_window(start, calendar), follow_up_window(start, calendar)
        result: dict[str, Any] = {
            "site": site.code,
            "time_zone": site.time_zone,
            "appointment": start.isoformat(),
            "call_window": call.as_json(site.zone) | {"moved": call.moved},
            "follow_up_window": follow.as_json(site.zone),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"Call window:      {result['call_window']['start']} → {result['call_window']['end']}")
            self.stdout.write(
                f"Follow-up window: {result['follow_up_window']['start']} → {result['follow_up_window']['end']}"
            )
