"""``kyphos plan-meds --site HOSP --procedure-start 2026-12-07T08:00 --drug apixaban [...] --json``.

One drug per call; times are the site's local time; frequency and intent default to the drug's usual ones.
An unknown drug, a CrCl outside 1–250, a bad dose or a malformed time exits with status 2 and one line.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kyphos.commands import KyphosCommand, bounded_int, local_time
from kyphos.errors import InvalidInput
from kyphos.rules.antithrombotics import Guideline, plan_drug
from kyphos.rules.medicines import Frequency, Intent, find_drug, parse_dose
from kyphos.scheduling.models import Site


class Command(KyphosCommand):
    help = "Compute the blood-thinner plan (last dose, restart, labs) for one drug before a procedure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True)
        parser.add_argument("--procedure-start", required=True, help="site local time, e.g. 2026-12-07T08:00")
        parser.add_argument("--drug", required=True, help="generic or brand name")
        parser.add_argument("--dose", default="", help='e.g. "5 mg"')
        parser.add_argument("--frequency", choices=[f.value for f in Frequency])
        parser.add_argument("--intent", choices=[i.value for i in Intent])
        parser.add_argument("--crcl", type=int, help="creatinine clearance, mL/min (1–250)")
        parser.add_argument("--guideline", choices=[g.value for g in Guideline], default=Guideline.SIR2019.value)
        parser.add_argument(
            "--duration",
            type=bounded_int(1, 24 * 60, "--duration"),
            help="planned minutes, 1–1440 (default: the site's)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise InvalidInput(format_lazy(_("unknown site {site!r}"), site=options["site"]))
        start = local_time(options["procedure_start"], site.zone, "procedure start")
        minutes = options["duration"] or site.default_procedure_minutes
        drug = find_drug(options["drug"])
        if options["dose"]:
            parse_dose(options["dose"])
        plan = plan_drug(
            drug,
            start,
            procedure_end=start + timedelta(minutes=minutes),
            zone=site.zone,
            frequency=options["frequency"],
            intent=options["intent"],
            crcl=options["crcl"],
            guideline=options["guideline"],
        )
        result = {
            "site": site.code,
            "procedure_start": start.isoformat(),
            "guideline": options["guideline"],
            "drugs": [plan.as_json(site.zone) | {"dose": options["dose"] or None}],
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return None
        entry = result["drugs"][0]
        self.stdout.write(
            f"{drug.display}: " + {True: "hold", False: "continue", None: "agree with the prescriber"}[entry["hold"]]
        )
        if entry["last_dose"]:
            self.stdout.write(f"  last dose no later than {entry['last_dose']}")
        if entry["restart_after"]:
            self.stdout.write(f"  restart from {entry['restart_after']}")
        for note in entry["notes"]:
            self.stdout.write(f"  note: {note}")
        self.stdout.write(
            f"  source: {entry['source']} ({entry['confidence']}{', unverified' if entry['verify'] else ''})"
        )
        return None
