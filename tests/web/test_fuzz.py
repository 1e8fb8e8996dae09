"""Every form of the pathway, the staff's and the patient's, posted with what hypothesis makes up: no input gives
a server error, and an input that is refused changes nothing. The forms are found on the pages of the tour
(tests/browser/tour.py) in the demo department, each posted by the role that works there."""

import html
import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.accounts import sign_in
from tests.browser import tour

pytestmark = pytest.mark.django_db
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL | re.IGNORECASE)
NAME = re.compile(r"""<(?:input|select|textarea)\b[^>]*\bname=["']([^"']+)["'][^>]*>""", re.IGNORECASE)
VALUE_OF = re.compile(r"""\bvalue=["']([^"']*)["']""", re.IGNORECASE)
# Tables a refused post must leave as they were (the audit trail records refusals, axes records failed sign-ins).
NOT_COUNTED = {"audit.auditentry", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog", "sessions.session"}
NASTY = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e309",
        "NaN",
        "99999999999",
        "2030-02-30",
        "2030-01-07T25:61",
        "<script>x</script>",
        "\x00",
        "' OR 1=1 --",
        "ü" * 300,
        "+1 212 555 0100",
        "T12",
        "yes",
        "on",
    ]  # fmt: skip
)
VALUES = st.one_of(NASTY, st.text(max_size=40))


def forms_of(page: str, path: str) -> list[tuple[str, dict[str, str], list[str]]]:
    """(action, hidden values, names) of each POST form on a page."""
    found = []
    for attrs, body in FORM.findall(page):
        if "post" not in attrs.lower():
            continue
        match = re.search(r"""\baction=["']([^"']*)["']""", attrs)
        action = html.unescape(match.group(1)) if match and match.group(1) else path
        hidden: dict[str, str] = {}
        for tag in re.findall(r"<input\b[^>]*>", body, re.IGNORECASE):
            if 'type="hidden"' in tag:
                name, value = NAME.search(tag), VALUE_OF.search(tag)
                if name:
                    hidden[name.group(1)] = html.unescape(value.group(1)) if value else ""
        names = sorted({n for n in NAME.findall(body) if n != "csrfmiddlewaretoken"})
        found.append((action, hidden, names))
    return found


def counts() -> dict[str, int]:
    return {
        m._meta.label_lower: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label
        in {
            "audit",
            "patients",
            "scheduling",
            "pathway",
            "messaging",
            "labs",
            "precall",
            "procedure",
            "aftercare",
            "auth",
        }  # fmt: skip
        and m._meta.label_lower not in NOT_COUNTED
    }


def targets_on(stops: list[tour.Stop]) -> list[tuple[Client, str, dict[str, str], list[str]]]:
    """Each POST form on the stops' pages, with a client signed in as the stop's user (none for a patient)."""
    targets: list[tuple[Client, str, dict[str, str], list[str]]] = []
    clients: dict[str, Client] = {}
    for stop in stops:
        client = clients.get(stop.user)
        if client is None:
            client = clients[stop.user] = Client()
            if stop.user:
                sign_in(client, User.objects.get(username=stop.user))
        page = client.get(stop.path)
        assert page.status_code == 200, stop.name
        for action, hidden, names in forms_of(page.content.decode(), stop.path):
            if "logout" not in action and names:
                targets.append((client, action, hidden, names))
    return targets


@pytest.mark.parametrize("side", ["staff", "patient"])
def test_made_up_input_never_breaks_a_form(side: str) -> None:
    call_command("demo", "--seed", "7", verbosity=0)
    if side == "staff":
        targets = targets_on([stop for stop in tour.staff_stops() if stop.user])
        assert len(targets) >= 20  # the tour's pages hold the pathway's forms
    else:
        targets = targets_on(tour.patient_stops())
        assert len(targets) >= 3  # the date of birth, the checklist, the diary

    print(f"fuzz: {side}: {len(targets)} forms, {len(targets) * 6} posts")  # the closing note's figure (-s)

    @settings(max_examples=len(targets) * 6, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def post_something(data: Any) -> None:
        client, action, hidden, names = data.draw(st.sampled_from(targets))
        typed = {name: data.draw(VALUES, label=name) for name in names}
        keep = data.draw(st.sets(st.sampled_from(sorted(hidden)), max_size=len(hidden))) if hidden else set()
        before = counts()
        response = client.post(action, {**typed, **{k: hidden[k] for k in keep}})
        assert response.status_code < 500, (action, typed)
        if response.status_code >= 400:
            assert counts() == before, (action, response.status_code)

    post_something()
