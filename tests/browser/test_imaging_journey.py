"""Issue 16's journey: at the desk, a patient's CD is read in from the case page (its folder chosen, then a ZIP
dropped on the page), previewed with whose it is, stored by the worker while the page shows how far it went; a
disc of someone else waits in quarantine."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kyphos.interop.dicom import importing
from tests.browser.test_journey import sign_in
from tests.discs import one_patient_cd

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _storage_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.KYPHOS_OUTSIDE_DIR = tmp_path / "var" / "outside"
    settings.KYPHOS_IMAGE_DIR = tmp_path / "var" / "images"


def test_the_desk_reads_in_a_cd_and_it_is_stored(
    page: Page, live_server: Any, transactional_db: Any, make_case: Any, tmp_path: Path
) -> None:
    case = make_case("scheduled")
    disc = one_patient_cd(tmp_path / "ada", "Testwoman^Ada", "19480314", "F")
    sign_in(page, live_server.url, "t_scheduler")
    page.goto(f"{live_server.url}/cases/{case.uuid}/")
    expect(page.locator("#outside-imaging")).to_contain_text("No outside images received yet.")
    page.get_by_role("link", name="Outside imaging: read in a CD, a report or films").click()
    expect(page.get_by_role("heading", name="Outside imaging", exact=True)).to_be_visible()

    # The CD's folder, chosen whole: every file goes up with its path; the page moves on to the preview.
    page.get_by_label("Or the CD's folder").set_input_files(disc)
    page.get_by_role("button", name="Read the disc").click()
    expect(page.get_by_role("heading", name="Read: matches the patient, not stored yet")).to_be_visible()
    expect(page.locator("table").first).to_contain_text("98890234")
    expect(page.locator("td.differs")).to_have_count(0)
    page.get_by_role("button", name="Store the images").click()
    expect(page.get_by_role("heading", name="Accepted: being stored")).to_be_visible()
    importing.work("test-worker")  # the worker's turn; the page follows without a reload
    expect(page.get_by_role("heading", name="Stored", exact=True)).to_be_visible(timeout=10_000)
    expect(page.locator("#import-status")).to_contain_text("in Kyphos's own storage")
    page.get_by_role("link", name="Back to the case").click()
    expect(page.locator("#outside-imaging")).to_contain_text("CT")


def test_a_zip_dropped_on_the_page_of_someone_else_goes_to_quarantine(
    page: Page, live_server: Any, transactional_db: Any, make_case: Any, tmp_path: Path
) -> None:
    case = make_case("scheduled")
    disc = one_patient_cd(tmp_path / "bob", "Otherman^Bob", "19480314", "M")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for path in sorted(p for p in disc.rglob("*") if p.is_file()):
            archive.write(path, str(path.relative_to(disc)))
    sign_in(page, live_server.url, "t_nurse")
    page.goto(f"{live_server.url}/cases/{case.uuid}/imaging/")
    dropped = page.evaluate_handle(
        """(encoded) => {
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const moved = new DataTransfer();
            moved.items.add(new File([bytes], "cd.zip", { type: "application/zip" }));
            return moved;
        }""",
        base64.b64encode(data.getvalue()).decode(),
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    expect(page.get_by_role("heading", name="In quarantine: whose images are these?")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("the name differs; the sex differs")
    expect(page.locator("td.differs")).to_have_count(2)
    expect(page.get_by_text("Only the radiologist can accept or reject a disc in quarantine.")).to_be_visible()
