"""The blood-thinner plan: when to take the last dose before kyphoplasty, when to restart, which labs.

Values come from ``data/antithrombotics.toml`` (SIR 2019 and ASRA 2018, high bleeding risk; the ACC 2017 pathway's
direct-oral-anticoagulant table as a third source in the strictest mode), each with its source, confidence and verify
flags, which the plan carries to the screen and the letter.

Time rules (also in the README):
- ``last_dose`` is the latest moment the last dose may be taken: the procedure start minus the hold.
  A hold of whole days is counted on the site's wall clock (a daylight-saving change does not move the time
  of day); a hold in hours is absolute; a hold of N doses is N × the dosing interval, split into whole days on
  the wall clock and the remaining hours.
- ``restart_after`` is the procedure's end (its start when the end is not known) plus the restart hours.
- Where the guideline's table splits by creatinine clearance and none is given, the longest hold is used and
  the plan says so; a clearance outside every band of the table, or below the lowest one its source studied, gives
  no value: no last dose, and the prescriber decides.
- A restart range takes its longer end. Where another source restarts later after a high-bleeding-risk procedure
  (PAUSE for the direct oral anticoagulants, ASRA for therapeutic low-molecular-weight heparin), the plan shows it
  beside the guideline's value, marks the restart "verify", and uses it when the site's policy is ``later``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from kyphos.errors import InvalidInput, Text, gettext_noop
from kyphos.rules import data
from kyphos.rules.medicines import Drug, Frequency, Intent, catalogue, find_drug
from kyphos.rules.windows import EARLIEST_YEAR, LATEST_YEAR, in_plannable_range

CRCL_MIN, CRCL_MAX = 1, 250


class Guideline(StrEnum):
    SIR2019 = "sir2019"
    ASRA2018 = "asra2018"
    STRICTEST = "strictest"
    ACC2017 = "acc2017"  # the direct oral anticoagulants only; a site's strictest mode consults it


# Sources consulted only by the strictest mode, for the drugs they have rows for.
EXTRA_SOURCES = ("acc2017",)


class RestartPolicy(StrEnum):
    GUIDELINE = "guideline"  # the governing guideline's restart time
    LATER = "later"  # the later value another source gives after a high-bleeding-risk procedure, where one exists


class Action(StrEnum):
    HOLD = "hold"
    CONTINUE = "continue"
    DECIDE = "decide"  # no guideline value: the prescriber decides


def _say(msgid: str, **values: object) -> str:
    """One of the plan's sentences in the language active now (the site's, where a service stores the plan)."""
    return str(Text(msgid, **values))


class PlanError(InvalidInput, ValueError):
    """Input the plan cannot use (naive time, CrCl out of range, a dose count without a dosing interval)."""


@dataclass(frozen=True)
class HoldRule:
    guideline: str
    drug: str
    action: Action
    source: str
    confidence: str
    verify: bool
    intent: str = ""
    crcl_min: int | None = None
    crcl_max: int | None = None
    hold_days: int | None = None
    hold_hours: int | None = None
    hold_doses: int | None = None
    range: str = ""
    restart_hours: int | None = None
    restart_range: str = ""
    later_restart_hours: int | None = None
    later_restart_range: str = ""
    later_restart_source: str = ""
    restart_verify: bool = False
    labs: tuple[str, ...] = ()
    note: str = ""

    @property
    def banded(self) -> bool:
        return self.crcl_min is not None or self.crcl_max is not None

    def covers(self, crcl: int) -> bool:
        return (self.crcl_min is None or crcl >= self.crcl_min) and (self.crcl_max is None or crcl <= self.crcl_max)

    def hold_text(self, frequency: Frequency) -> str:
        if self.hold_days is not None:
            text = _say(gettext_noop("{days} days"), days=self.hold_days)
        elif self.hold_hours is not None:
            text = _say(gettext_noop("{hours} hours"), hours=self.hold_hours)
        elif self.hold_doses is not None:
            interval = frequency.interval_hours
            text = _say(gettext_noop("{doses} doses"), doses=self.hold_doses)
            if interval:
                text += " " + _say(
                    gettext_noop("({span} at {frequency})"),
                    span=_duration_text(self.hold_doses * interval),
                    frequency=frequency.label,
                )
        else:
            return ""
        return _say(gettext_noop("{hold}; guideline: {range}"), hold=text, range=self.range) if self.range else text


def _duration_text(hours: int) -> str:
    days, rest = divmod(hours, 24)
    if not days:
        return _say(gettext_noop("{hours} hours"), hours=rest)
    if rest:
        return _say(gettext_noop("{days} days {hours} hours"), days=days, hours=rest)
    return _say(gettext_noop("{days} days"), days=days)


@cache
def rules() -> tuple[HoldRule, ...]:
    loaded = []
    for row in data.load("antithrombotics")["rule"]:
        for key in ("guideline", "drug", "source", "confidence"):
            if key not in row:
                raise data.DataFileError(f"antithrombotics.toml rule {row.get('drug', '?')}: missing {key}")
        if row["drug"] not in catalogue():
            raise data.DataFileError(f"antithrombotics.toml: {row['drug']} is not in drugs.toml")
        action = Action(row.get("action", "hold"))
        holds = [row.get(k) for k in ("hold_days", "hold_hours", "hold_doses") if row.get(k) is not None]
        if (action is Action.HOLD) != (len(holds) == 1):
            raise data.DataFileError(f"antithrombotics.toml {row['guideline']} {row['drug']}: one hold value needed")
        loaded.append(
            HoldRule(
                guideline=row["guideline"],
                drug=row["drug"],
                action=action,
                source="; ".join(filter(None, (row["source"], row.get("floor_source", "")))),
                confidence=row["confidence"],
                verify=bool(row.get("verify", False)),
                intent=row.get("intent", ""),
                crcl_min=row.get("crcl_min"),
                crcl_max=row.get("crcl_max"),
                hold_days=row.get("hold_days"),
                hold_hours=row.get("hold_hours"),
                hold_doses=row.get("hold_doses"),
                range=row.get("range", ""),
                restart_hours=row.get("restart_hours"),
                restart_range=row.get("restart_range", ""),
                later_restart_hours=row.get("later_restart_hours"),
                later_restart_range=row.get("later_restart_range", ""),
                later_restart_source=row.get("later_restart_source", ""),
                restart_verify=bool(row.get("restart_verify", False)) or row.get("later_restart_hours") is not None,
                labs=tuple(row.get("labs", [])),
                note=row.get("note", ""),
            )
        )
    return tuple(loaded)


@cache
def guideline_info() -> dict[str, dict[str, Any]]:
    return dict(data.load("antithrombotics")["guidelines"])


@dataclass(frozen=True)
class DrugPlan:
    """What to do with one medicine around the procedure, with where each value comes from."""

    drug: Drug
    guideline: str
    action: Action
    frequency: Frequency
    intent: Intent
    last_dose: datetime | None = None
    restart_after: datetime | None = None
    hold_text: str = ""
    restart_hours: int | None = None
    labs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""
    confidence: str = ""
    verify: bool = False
    restart_verify: bool = False
    crcl: int | None = None
    later_restart_hours: int | None = None
    later_restart_source: str = ""
    restart_policy: str = RestartPolicy.GUIDELINE.value
    considered: tuple[DrugPlan, ...] = field(default=())

    @property
    def hold(self) -> bool | None:
        return {Action.HOLD: True, Action.CONTINUE: False, Action.DECIDE: None}[self.action]

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.astimezone(zone).isoformat() if moment else None

        return {
            "drug": self.drug.id,
            "guideline": self.guideline,
            "hold": self.hold,
            "action": self.action.value,
            "last_dose": iso(self.last_dose),
            "restart_after": iso(self.restart_after),
            "hold_period": self.hold_text,
            "frequency": self.frequency.value,
            "intent": self.intent.value,
            "crcl": self.crcl,
            "labs": list(self.labs),
            "notes": list(self.notes),
            "source": self.source,
            "confidence": self.confidence,
            "verify": self.verify,
            "restart_verify": self.restart_verify,
            "later_restart_hours": self.later_restart_hours,
            "later_restart_source": self.later_restart_source,
            "restart_policy": self.restart_policy,
        }


def _wall_days_earlier(moment: datetime, zone: ZoneInfo, days: int) -> datetime:
    local = moment.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=zone)


def last_dose_time(rule: HoldRule, procedure_start: datetime, zone: ZoneInfo, frequency: Frequency) -> datetime:
    """The latest moment the last dose may be taken under ``rule`` (see the module docstring)."""
    if rule.hold_days is not None:
        return _wall_days_earlier(procedure_start, zone, rule.hold_days)
    if rule.hold_hours is not None:
        return procedure_start - timedelta(hours=rule.hold_hours)
    assert rule.hold_doses is not None
    interval = frequency.interval_hours
    if interval is None:
        raise PlanError(
            Text(
                gettext_noop("A hold of {hold_doses} doses needs a dosing frequency, not “{frequency}”."),
                hold_doses=rule.hold_doses,
                frequency=frequency.label,
            )
        )
    days, hours = divmod(rule.hold_doses * interval, 24)
    return _wall_days_earlier(procedure_start, zone, days) - timedelta(hours=hours)


def _matching(guideline: str, drug: Drug, intent: Intent) -> list[HoldRule]:
    candidates = [r for r in rules() if r.guideline == guideline and r.drug == drug.id]
    with_intent = [r for r in candidates if r.intent == intent.value]
    return with_intent or [r for r in candidates if not r.intent]


def _plan_one(
    guideline: str,
    drug: Drug,
    procedure_start: datetime,
    procedure_end: datetime,
    zone: ZoneInfo,
    frequency: Frequency,
    intent: Intent,
    crcl: int | None,
    restart_policy: RestartPolicy = RestartPolicy.GUIDELINE,
) -> DrugPlan:
    title = guideline_info()[guideline]["title"]
    base = DrugPlan(
        drug=drug,
        guideline=guideline,
        action=Action.DECIDE,
        frequency=frequency,
        intent=intent,
        crcl=crcl,
        restart_policy=restart_policy.value,
    )
    candidates = _matching(guideline, drug, intent)
    if not candidates:
        return replace(
            base,
            notes=(
                _say(
                    gettext_noop("{source} has no value for {drug}: agree a plan with the prescriber."),
                    source=title,
                    drug=drug.generic,
                ),
            ),
            source=guideline_info()[guideline]["source"],
            confidence="gap",
        )
    notes: list[str] = []
    if any(r.banded for r in candidates):
        if crcl is None:
            held = [r for r in candidates if r.action is Action.HOLD]
            rule = max(held, key=lambda r: last_dose_gap(r, procedure_start, zone, frequency))
            notes.append(
                _say(
                    gettext_noop("Kidney function (CrCl) not known: the longest hold of the table is used. Enter CrCl.")
                )
            )
        else:
            covering = [r for r in candidates if r.covers(crcl)]
            if not covering:
                # The lowest band says where the source's evidence ends (its floor and why).
                lowest = min(candidates, key=lambda r: r.crcl_min or 0)
                return replace(
                    base,
                    source=lowest.source,
                    confidence=lowest.confidence,
                    verify=lowest.verify,
                    notes=(
                        _say(
                            gettext_noop(
                                "CrCl {crcl} mL/min is outside the {source} table for {drug}: no hold is computed; "
                                "agree a plan with the prescriber (consider haematology)."
                            ),
                            crcl=crcl,
                            source=title,
                            drug=drug.generic,
                        ),
                    ),
                )
            rule = covering[0]
    else:
        rule = candidates[0]
    if rule.note:
        notes.append(_say(rule.note))  # the data file's sentence (in the catalogue through kyphos makemessages)
    restart_hours = rule.restart_hours
    if rule.restart_range and restart_hours is not None:
        notes.append(
            _say(
                gettext_noop("{source} restarts {range} after: the later end ({hours} h) is used."),
                source=title,
                range=rule.restart_range,
                hours=restart_hours,
            )
        )
    if rule.later_restart_hours is not None and restart_hours is not None:
        later = rule.later_restart_range or f"{rule.later_restart_hours} h"
        if restart_policy is RestartPolicy.LATER:
            notes.append(
                _say(
                    gettext_noop(
                        "Restart {hours} h after, the site's policy (later value: {later}, {later_source}); "
                        "{source} gives {guideline_hours} h."
                    ),
                    hours=rule.later_restart_hours,
                    later=later,
                    later_source=rule.later_restart_source,
                    source=title,
                    guideline_hours=restart_hours,
                )
            )
            restart_hours = rule.later_restart_hours
        else:
            notes.append(
                _say(
                    gettext_noop(
                        "{source} restarts {hours} h after; a later value is {later} ({later_source}). A site may "
                        "make the later value its policy."
                    ),
                    source=title,
                    hours=restart_hours,
                    later=later,
                    later_source=rule.later_restart_source,
                )
            )
    plan = replace(
        base,
        action=rule.action,
        labs=tuple(_say(lab) for lab in rule.labs),
        source=rule.source,
        confidence=rule.confidence,
        verify=rule.verify,
        restart_verify=rule.restart_verify,
        restart_hours=restart_hours,
        later_restart_hours=rule.later_restart_hours,
        later_restart_source=rule.later_restart_source,
        hold_text=rule.hold_text(frequency),
        notes=tuple(notes),
    )
    if rule.action is Action.HOLD:
        plan = replace(plan, last_dose=last_dose_time(rule, procedure_start, zone, frequency))
        if restart_hours is not None:
            plan = replace(plan, restart_after=procedure_end + timedelta(hours=restart_hours))
    return plan


def last_dose_gap(rule: HoldRule, procedure_start: datetime, zone: ZoneInfo, frequency: Frequency) -> timedelta:
    return procedure_start - last_dose_time(rule, procedure_start, zone, frequency)


def _strictest(plans: list[DrugPlan]) -> DrugPlan:
    """Per drug, the plan that stops it earliest and restarts it latest; both guidelines stay visible."""
    held = [p for p in plans if p.action is Action.HOLD]
    if held:
        first = min(held, key=lambda p: p.last_dose or datetime.max.replace(tzinfo=ZoneInfo("UTC")))
        restarts = [p.restart_after for p in held if p.restart_after]
        latest_restart = max(restarts) if restarts else None
        restart_from = next((p for p in held if p.restart_after == latest_restart), first)
        notes = list(first.notes)
        for other in plans:
            if other is not first:
                notes.append(f"{guideline_info()[other.guideline]['title']}: {_in_brief(other)}")
        return replace(
            first,
            guideline=f"strictest ({first.guideline} hold, {restart_from.guideline} restart)",
            restart_after=latest_restart,
            restart_hours=restart_from.restart_hours,
            restart_verify=restart_from.restart_verify,
            later_restart_hours=restart_from.later_restart_hours,
            later_restart_source=restart_from.later_restart_source,
            labs=tuple(dict.fromkeys(lab for p in plans for lab in p.labs)),
            notes=tuple(notes),
            source=" | ".join(p.source for p in plans),
            verify=any(p.verify for p in plans),
            considered=tuple(plans),
        )
    decide = [p for p in plans if p.action is Action.DECIDE]
    chosen = decide[0] if decide else plans[0]
    return replace(
        chosen,
        guideline=f"strictest ({chosen.guideline})",
        considered=tuple(plans),
        notes=tuple(n for p in plans for n in p.notes),
        source=" | ".join(p.source for p in plans),
        verify=any(p.verify for p in plans),
    )


def _in_brief(plan: DrugPlan) -> str:
    """Another source's plan in one line, beside the strictest: its last dose, or what it says instead."""
    if plan.last_dose:
        return _say(gettext_noop("last dose {when:%a %d-%b %H:%M}"), when=plan.last_dose)
    if plan.action is Action.CONTINUE:
        return _say(gettext_noop("continue"))
    # No value: keep what the source does say (ASRA's "not routinely stopped; shared decision", a kidney floor).
    return " ".join(plan.notes) or _say(gettext_noop("no value"))


def _sources_for(drug: Drug) -> list[str]:
    extra = [g for g in EXTRA_SOURCES if any(r.guideline == g and r.drug == drug.id for r in rules())]
    return [Guideline.SIR2019.value, Guideline.ASRA2018.value, *extra]


def plan_drug(
    drug: Drug | str,
    procedure_start: datetime,
    *,
    zone: ZoneInfo,
    procedure_end: datetime | None = None,
    frequency: Frequency | str | None = None,
    intent: Intent | str | None = None,
    crcl: int | None = None,
    guideline: Guideline | str = Guideline.SIR2019,
    restart_policy: RestartPolicy | str = RestartPolicy.GUIDELINE,
) -> DrugPlan:
    """The plan for one medicine around a procedure starting at ``procedure_start`` (aware)."""
    if procedure_start.tzinfo is None:
        raise PlanError(gettext_noop("The procedure time must carry its time zone."))
    if not in_plannable_range(procedure_start):
        raise PlanError(
            Text(
                gettext_noop("Give a procedure date from {earliest} to {latest}, not {day:%Y-%m-%d}."),
                earliest=EARLIEST_YEAR,
                latest=LATEST_YEAR,
                day=procedure_start,
            )
        )
    if procedure_end is not None and not procedure_start <= procedure_end <= procedure_start + timedelta(days=1):
        raise PlanError(gettext_noop("The procedure must end after it starts and within 24 hours."))
    if crcl is not None and not CRCL_MIN <= crcl <= CRCL_MAX:
        raise PlanError(
            Text(
                gettext_noop("A creatinine clearance of {crcl} mL/min is not possible; enter {low}–{high}."),
                crcl=crcl,
                low=CRCL_MIN,
                high=CRCL_MAX,
            )
        )
    the_drug = drug if isinstance(drug, Drug) else find_drug(drug)
    freq = Frequency(frequency) if frequency else the_drug.frequency
    purpose = Intent(intent) if intent else the_drug.intent
    end = procedure_end or procedure_start
    choice = Guideline(guideline)
    policy = RestartPolicy(restart_policy)
    if choice is Guideline.STRICTEST:
        plans = [
            _plan_one(g, the_drug, procedure_start, end, zone, freq, purpose, crcl, policy)
            for g in _sources_for(the_drug)
        ]
        return _strictest(plans)
    return _plan_one(choice.value, the_drug, procedure_start, end, zone, freq, purpose, crcl, policy)
