"""Sources under a finding: one short line, the full citation and confidence one click away."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kyphos.web.templatetags.kyphos_tags import short_source
from tests.accounts import sign_in


@pytest.mark.parametrize(
    "source,short",
    [
        ("SIR 2019 Part II (Patel et al., JVIR 2019;30:1168-1184), high-bleeding-risk column", "SIR 2019 Part II"),
        ("Medicare LCD L34228, Percutaneous Vertebral Augmentation (https://www.cms.gov/x), inclusion 2",
         "Medicare LCD L34228, Percutaneous Vertebral Augmentation"),
        ("Local pathway: consent before sedation", "Local pathway"),
        ("ASA 2017", "ASA 2017"),
    ],
)  # fmt: skip
def test_the_short_line(source: str, short: str) -> None:
    assert short_source(source) == short


@pytest.mark.django_db
def test_the_case_page_shows_the_short_line_and_keeps_the_citation_a_click_away(
    make_case: Any, people: dict[str, Any]
) -> None:
    case = make_case("referred", pain_nrs=3)
    client = Client()
    sign_in(client, people["radiologist"])
    html = client.get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert '<details class="source"><summary>Source: Medicare LCD L34228' in html
    assert "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=34228" in html  # one click away
