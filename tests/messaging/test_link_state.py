"""The patient's link as staff see it on the case page: when it was sent and how, when it was last opened, when it
expires, a button to send it again — never the token. Links in messages point where the service is served."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from kyphos.messaging import links
from kyphos.messaging.models import OutboxMessage
from kyphos.web.management.commands.serve import adopt_base_url
from tests.accounts import sign_in

pytestmark = pytest.mark.django_db


def test_the_case_page_shows_the_links_state_and_sends_it_again(
    make_case: Any, actors: dict[str, Any], people: dict[str, Any]
) -> None:
    case = make_case("scheduled")
    client = Client()
    sign_in(client, people["nurse"])
    client.post(reverse("case_link", args=[case.uuid]), {"action": "issue"})
    link = links.current_link(case)
    page = client.get(reverse("case_detail", args=[case.uuid])).content.decode()
    assert "Link active until" in page and "sent " in page and "Text message" in page
    assert links.path_for(link) not in page  # the token stays hidden
    client.post(reverse("case_link", args=[case.uuid]), {"action": "resend"})
    client.post(reverse("case_link", args=[case.uuid]), {"action": "resend"})
    carrying = OutboxMessage.objects.filter(case=case, body__contains=links.path_for(link))
    assert carrying.count() == 3 and links.current_link(case).pk == link.pk  # the same link, sent three times


def test_resending_without_a_working_link_is_refused(make_case: Any, people: dict[str, Any]) -> None:
    case = make_case("scheduled")
    client = Client()
    sign_in(client, people["nurse"])
    response = client.post(reverse("case_link", args=[case.uuid]), {"action": "resend"}, follow=True)
    assert "no working link to send again" in response.content.decode()
    assert not OutboxMessage.objects.filter(case=case, purpose="new_link").exists()


def test_links_in_messages_use_the_served_address(monkeypatch: Any) -> None:
    """The SMS pointed at port 8000 while the server ran on 8123."""
    monkeypatch.delenv("KYPHOS_BASE_URL", raising=False)
    monkeypatch.setattr(settings, "KYPHOS_BASE_URL", "http://127.0.0.1:8000")
    assert adopt_base_url("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    assert settings.KYPHOS_BASE_URL == "http://127.0.0.1:8123"
    monkeypatch.setenv("KYPHOS_BASE_URL", "https://kyphos.hospital.example/")
    assert adopt_base_url("http://127.0.0.1:8123") == "https://kyphos.hospital.example"
