"""Outcomes per case: pain at baseline, at 24–48 hours and at follow-up; questionnaire scores before and after.

Refreshed whenever a pain score, a diary entry, a questionnaire or the follow-up visit is recorded, and stored on
``CaseOutcome`` for the dashboard. Pain at 24–48 h is the last score recorded (by staff or in the diary) between
24 and 48 hours after the procedure ended (the service's handout: relief is expected within 24–48 h).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from kyphos import clock
from kyphos.aftercare.models import CaseOutcome, DiaryEntry, FollowUpRecord, PainScore, QuestionnaireResponse
from kyphos.aftercare.selectors import procedure_record
from kyphos.pathway.models import Case


def procedure_end(case: Case) -> datetime | None:
    record = procedure_record(case)
    if record is not None and record.ended_at:
        return record.ended_at
    return None


def pain_points(case: Case) -> list[tuple[datetime, int, str, tuple[str, ...]]]:
    """Every pain score of the case, oldest first: (when, 0–10, where from, diary red flags). The outcomes and
    the follow-up chart both read this."""
    points: list[tuple[datetime, int, str, tuple[str, ...]]] = [
        (datetime.combine(case.referral_date, time(12), tzinfo=case.site.zone), case.pain_nrs, "referral", ())
    ]
    points += [(p.at, p.nrs, "ward", ()) for p in PainScore.objects.filter(case=case)]
    points += [(d.at, d.pain, "diary", tuple(d.red_flags)) for d in DiaryEntry.objects.filter(case=case)]
    points += [(f.at, f.pain_today, "follow-up", ()) for f in FollowUpRecord.objects.filter(case=case)]
    return sorted(points, key=lambda p: p[0])


def refresh(case: Case) -> CaseOutcome:
    end = procedure_end(case)
    in_window = None
    if end is not None:
        window = [p for p in pain_points(case) if end + timedelta(hours=24) <= p[0] <= end + timedelta(hours=48)]
        in_window = window[-1][1] if window else None
    last_visit = FollowUpRecord.objects.filter(case=case).order_by("-at", "-id").first()
    responses = QuestionnaireResponse.objects.filter(case=case).select_related("questionnaire")
    after = [r for r in responses if r.context in ("follow_up", "previsit") and r.score is not None]
    before = [r for r in responses if r.context == "baseline" and r.score is not None]
    chosen = after[-1] if after else before[0] if before else None
    canonical = chosen.questionnaire.canonical if chosen else ""
    baseline = next((r.score for r in before if r.questionnaire.canonical == canonical), None)
    follow_up = next((r.score for r in reversed(after) if r.questionnaire.canonical == canonical), None)
    outcome, _created = CaseOutcome.objects.update_or_create(
        case=case,
        defaults={
            "pain_baseline": case.pain_nrs,
            "pain_24_48h": in_window,
            "pain_follow_up": last_visit.pain_today if last_visit else None,
            "questionnaire": canonical,
            "score_baseline": baseline,
            "score_follow_up": follow_up,
            "updated_at": clock.current(),
        },
    )
    return outcome
