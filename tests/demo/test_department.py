"""`make run` loads the demo department through the real services: every stage is there, and the booking guards,
the early blood-thinner plan and the call's decisions hold for its patients too."""

from typing import Any

import pytest
from django.core.management import call_command

from kyphos.pathway import services
from kyphos.pathway.models import Case, Task, TaskKind
from kyphos.pathway.stages import Stage

pytestmark = pytest.mark.django_db


def test_the_demo_department_loads_every_stage(capsys: Any) -> None:
    call_command("demo", "--seed", "7")
    stages = set(Case.objects.values_list("stage", flat=True))
    assert {Stage.REFERRED, Stage.SCHEDULED, Stage.IN_PROCEDURE, Stage.DISCHARGED, Stage.CLOSED} <= stages
    assert Task.objects.filter(kind=TaskKind.BLOOD_THINNER_PLAN).exists()
    # One signed call reported a fever: the radiologist has a stop to decide on (proceed, postpone or cancel).
    flagged = Case.objects.filter(stage=Stage.PRECALL_DONE, open_stops__gt=0)
    assert flagged.exists() and services.stops_to_decide(flagged.first()) == ["history.fever_or_infection"]
    assert "Demo department loaded." in capsys.readouterr().out
