"""The operative note: prefilled from the record, edited as a draft, signed once with its sections, addenda after,
under the site's letterhead."""

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from PIL import Image

from kyphos.demo.builder import Journey
from kyphos.precall.services import MedicationInput
from kyphos.procedure import note, services
from kyphos.procedure.models import NoteDraft, ProcedureNote, ProcedureRecord
from tests.accounts import sign_in
from tests.conftest import MONDAY, case_at

pytestmark = pytest.mark.django_db
SIGN_OUT = {key for key, _ in services.checklist_items("sign_out")}
AFTER = MONDAY + timedelta(minutes=95)


def ended(make_case: Any, actors: dict[str, Any], **journey: Any) -> Any:
    case = case_at(make_case, actors, "recovery", Journey(sedation=True, **journey))
    with time_machine.travel(AFTER):
        services.sign_checklist(actors["radiologist"], case, "sign_out", SIGN_OUT)
    return case


def test_the_prefilled_note_says_what_the_record_holds(make_case: Any, actors: dict[str, Any]) -> None:
    heparin = MedicationInput("heparin-iv", "", "continuous", "vte", "Dr Ward")
    case = ended(make_case, actors, medicines=(heparin,), start_override="aPTT 31 s on the ward at 07:20")
    with time_machine.travel(AFTER):
        sections = note.prefilled(case, ProcedureRecord.objects.get(case=case))
    assert list(sections) == list(note.KEYS)
    assert "T12 acute" in sections["indication"] and "osteoporosis" in sections["indication"]
    assert "Pain 7/10" in sections["indication"] and "8 weeks of conservative care" in sections["indication"]
    assert "Written consent confirmed at admission" in sections["consent"] and "Time-out done" in sections["consent"]
    assert "Moderate sedation by Dr Alan Anesthesia (anesthesiologist); ASA 2" in sections["sedation"]
    assert "Midazolam 2 mg IV" in sections["sedation"]
    technique = sections["technique"].splitlines()
    assert "transpedicular approach" in technique[0]
    assert technique[1].startswith("1. T12, bilateral; balloon 15 mm") and technique[2].startswith("2. L1, bilateral")
    assert "Kyphon HV-R, lot K7700; left 2.4 mL, right 2.6 mL (5.0 mL)" in sections["cement"]
    assert sections["cement"].endswith("Total cement 10.0 mL.")
    assert "Fluoroscopy 240 s" in sections["dose"]
    assert sections["complications"] == "None."
    assert sections["impression"].startswith("Balloon kyphoplasty of 2 levels (T12, L1) completed without cement")
    assert "Restart" in sections["plan"] and "Follow-up visit 7–14 days" in sections["plan"]


def test_a_draft_keeps_the_edits_and_signing_uses_them(make_case: Any, actors: dict[str, Any]) -> None:
    case = ended(make_case, actors)
    record = ProcedureRecord.objects.get(case=case)
    with time_machine.travel(AFTER):
        sections = note.current_sections(case, record)
        sections["impression"] = "Two-level kyphoplasty, good fill, no leakage."
        note.save_draft(actors["radiologist"], case, sections)
        assert note.current_sections(case, record)["impression"] == "Two-level kyphoplasty, good fill, no leakage."
        signed = note.sign(actors["radiologist"], case)
    assert {"key": "impression", "text": "Two-level kyphoplasty, good fill, no leakage."} in signed.sections
    assert "Two-level kyphoplasty, good fill, no leakage." in signed.html
    assert not NoteDraft.objects.filter(case=case).exists()
    assert signed.signed_name.endswith(", radiologist")
    with time_machine.travel(AFTER), pytest.raises(ValidationError, match="already signed"):
        note.save_draft(actors["radiologist"], case, sections)


def test_a_note_without_an_impression_is_not_signed(make_case: Any, actors: dict[str, Any]) -> None:
    case = ended(make_case, actors)
    with time_machine.travel(AFTER):
        sections = note.current_sections(case, ProcedureRecord.objects.get(case=case))
        sections["impression"] = "  "
        with pytest.raises(ValidationError) as refused:
            note.sign(actors["radiologist"], case, sections)
    assert "Impression: write this section before signing." in refused.value.message_dict["impression"]
    assert not ProcedureNote.objects.filter(case=case).exists()


def test_only_the_radiologist_writes_the_note(make_case: Any, actors: dict[str, Any]) -> None:
    case = ended(make_case, actors)
    with time_machine.travel(AFTER), pytest.raises(Exception, match="role does not allow"):
        note.save_draft(actors["ward_nurse"], case, {"impression": "x"})
    assert not NoteDraft.objects.filter(case=case).exists()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (0, 94, 184)).save(out, format="PNG")
    return out.getvalue()


def test_the_note_carries_the_letterhead_and_logo(make_case: Any, actors: dict[str, Any]) -> None:
    case = ended(make_case, actors)
    site = case.site
    site.logo, site.logo_type, site.address = _png(), "image/png", "1 River Road\nSpringfield"
    site.save()
    with time_machine.travel(AFTER):
        signed = note.sign(actors["radiologist"], case)
    assert 'src="data:image/png;base64,' in signed.html and "1 River Road" in signed.html
    pdf = bytes(signed.pdf)
    assert b"/Subtype /Image" in pdf and b"Springfield" in pdf


def test_the_page_offers_the_prefilled_note_a_draft_and_the_signature(
    make_case: Any, actors: dict[str, Any], people: dict[str, Any]
) -> None:
    case = ended(make_case, actors)
    client = Client()
    url = f"/cases/{case.uuid}/procedure/"
    with time_machine.travel(AFTER):
        sign_in(client, people["radiologist"])
        page = client.get(url).content.decode()
        assert 'name="note-impression"' in page and "Balloon kyphoplasty of 2 levels" in page
        form = {f"note-{key}": text for key, text in note.current_sections(case, case.procedure).items()}
        form["note-plan"] = ""
        refused = client.post(f"{url}note/sign/", {**form, "action": "sign"})
        assert refused.status_code == 400
        assert "Plan" in refused.content.decode() and not ProcedureNote.objects.filter(case=case).exists()
        kept = client.post(f"{url}note/sign/", {**form, "action": "draft"})
        assert kept.status_code == 302 and NoteDraft.objects.get(case=case).sections["plan"] == ""
        form["note-plan"] = "Home tomorrow; clinic in ten days."
        client.post(f"{url}note/sign/", {**form, "action": "sign"})
        shown = client.get(url).content.decode()
    assert "Home tomorrow; clinic in ten days." in shown and 'name="note-impression"' not in shown
    assert ProcedureNote.objects.get(case=case).sections[-1] == {
        "key": "plan",
        "text": "Home tomorrow; clinic in ten days.",
    }
    nurse = Client()
    other = ended(make_case, actors)
    with time_machine.travel(AFTER):
        sign_in(nurse, people["ward_nurse"])
        assert 'name="note-impression"' not in nurse.get(f"/cases/{other.uuid}/procedure/").content.decode()
