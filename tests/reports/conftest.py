"""A known department for the reports: two patients treated (one followed up and closed, one discharged and not
yet seen), one only referred; one level of the discharged patient leaked without symptoms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kyphos.procedure.models import TreatedLevel
from tests.conftest import MONDAY, advance


@pytest.fixture
def department(make_case: Any, actors: dict[str, Any], site: Any) -> dict[str, Any]:
    closed = advance(make_case("scheduled", start=MONDAY), actors, "closed")
    discharged = advance(make_case("scheduled", start=MONDAY + timedelta(days=2)), actors, "discharged")
    referred = make_case("referred")
    # One level of the discharged patient leaked, without symptoms.
    level = TreatedLevel.objects.filter(record__case=discharged).order_by("order").first()
    assert level is not None
    TreatedLevel.objects.filter(pk=level.pk).update(leakage=TreatedLevel.Leakage.ASYMPTOMATIC)
    return {"site": site, "closed": closed, "discharged": discharged, "referred": referred}
