"""``kyphos plan-meds --site HOSP --procedure-start 2026-12-07T08:00 --drug apixaban [...] --json``.

One drug per call; times are the site's local time; frequency and intent default to the drug's usual ones, or
the intent follows ``--indication`` (what the medicine is taken for: aspirin's plan depends on it). The restart
policy defaults to the site's. An unknown drug, a CrCl outside 1–250, a bad dose or a malformed time exits with
status 2 and one line.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyphos.commands import KyphosCommand, bounded_int, local_time
from kyphos.errors import InvalidInput
from kyphos.precall.models import Indication
from kyphos.precall.services import intent_for
from kyphos.rules.antithrombotics import Guideline, RestartPolicy, plan_drug
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
        why = parser.add_mutually_exclusive_group()
        why.add_argument("--intent", choices=[i.value for i in Intent])
        why.add_argument(
            "--indication",
            choices=[i.value.replace("_", "-") for i in Indication if i.value],
            help="what it is taken for (sets the intent: aspirin's plan depends on it)",
        )
        parser.add_argument("--crcl", type=int, help="creatinine clearance, mL/min (1–250)")
        parser.add_argument("--guideline", choices=[g.value for g in Guideline], default=Guideline.SIR2019.value)
        parser.add_argument(
            "--restart-policy",
            choices=[p.value for p in RestartPolicy],
            help="guideline: the guideline's restart; later: a later value where a source gives one (default: site's)",
        )
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
            intent=options["intent"] or intent_for((options["indication"] or "").replace("-", "_")),
            crcl=options["crcl"],
            guideline=options["guideline"],
            restart_policy=options["restart_policy"] or site.restart_policy,
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
        action = {True: gettext("hold"), False: gettext("continue"), None: gettext("agree with the prescriber")}
        self.stdout.write(f"{drug.display}: {action[entry['hold']]}")
        if entry["last_dose"]:
            self.stdout.write("  " + gettext("last dose no later than {when}").format(when=entry["last_dose"]))
        if entry["restart_after"]:
            line = gettext("restart from {when}").format(when=entry["restart_after"])
            if entry["restart_verify"]:
                line += " " + gettext("(restart time unverified)")
            self.stdout.write(f"  {line}")
        for note in entry["notes"]:
            self.stdout.write("  " + gettext("note: {note}").format(note=note))
        unverified = ", " + gettext("unverified") if entry["verify"] else ""
        self.stdout.write(
            "  "
            + gettext("source: {source} ({confidence}{unverified})").format(
                source=entry["source"], confidence=entry["confidence"], unverified=unverified
            )
        )
        return None
