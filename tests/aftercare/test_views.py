"""The recovery page: one small view per action, refusals shown on the page, nothing written."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from kyphos.aftercare.models import PainScore, RecoveryCheck
from tests.accounts import sign_in
from tests.conftest import MONDAY, case_at

pytestmark = pytest.mark.django_db
AFTER = MONDAY + timedelta(minutes=100)


def nurse_client(people: dict[str, Any]) -> Client:
    client = Client()
    sign_in(client, people["ward_nurse"])
    return client


def test_recovery_actions_only_take_posts_and_refuse_bad_input_on_the_page(
    make_case: Any, actors: dict[str, Any], people: dict[str, Any]
) -> None:
    case = case_at(make_case, actors, "recovery")
    with time_machine.travel(AFTER):
        nurse = nurse_client(people)
        for name in ("check", "ward", "pain", "discharge"):
            assert nurse.get(reverse(f"aftercare:{name}", args=[case.uuid])).status_code == 405, name
        pain = nurse.post(reverse("aftercare:pain", args=[case.uuid]), {"nrs": "a lot"}, follow=True)
        assert "whole number from 0 to 10" in pain.content.decode()
        check = nurse.post(
            reverse("aftercare:check", args=[case.uuid]),
            {"legs_strength_normal": "on", "spo2": "120", "puncture_sites": "dry"},
        )
        assert check.status_code == 400 and 'id="check-form"' in check.content.decode()
        assert not PainScore.objects.filter(case=case).exists() and not RecoveryCheck.objects.filter(case=case).exists()
        saved = nurse.post(reverse("aftercare:pain", args=[case.uuid]), {"nrs": "4"})
    assert saved.status_code == 302 and saved["Location"] == reverse("aftercare:recovery", args=[case.uuid])
    assert PainScore.objects.get(case=case).nrs == 4
