"""The site's look on paper and in the browser tab: an administrator uploads a logo in the admin; letters and notes
print it with the site's name, address and phone; a file that is not a small PNG or JPEG is refused with a message
and changes nothing. Every page names its icon."""

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from PIL import Image

from kyphos.messaging.letters import LetterContent, render_html, render_pdf, with_letterhead
from kyphos.scheduling.admin import SiteForm
from kyphos.scheduling.models import Site

pytestmark = pytest.mark.django_db


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 60), (0, 94, 184)).save(out, format=kind)
    return out.getvalue()


def _form(site: Site, upload: SimpleUploadedFile | None = None, **extra: Any) -> SiteForm:
    data: dict[str, Any] = {}
    for name in SiteForm.base_fields:
        value = getattr(site, name, None)
        if name in {"logo_upload", "remove_logo"}:
            continue
        if name == "staff":  # a many-to-many: the form takes the users' ids
            data[name] = [user.pk for user in site.staff.all()]
            continue
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        if value is not None and value is not False:
            data[name] = value
    data.update(extra)
    return SiteForm(data, {"logo_upload": upload} if upload else {}, instance=site)


def _save(site: Site, form: SiteForm, admin: Any) -> None:
    request = RequestFactory().post("/admin/")
    request.user = admin
    admin_site._registry[Site].save_model(request, form.save(commit=False), form, change=True)


def test_an_uploaded_logo_heads_every_letter(site: Site, people: dict[str, Any]) -> None:
    form = _form(site, SimpleUploadedFile("logo.jpg", _image("JPEG"), content_type="image/jpeg"))
    assert form.is_valid(), form.errors
    _save(site, form, people["admin"])
    site.refresh_from_db()
    assert site.logo_type == "image/jpeg" and bytes(site.logo).startswith(b"\xff\xd8")
    site.address = "100 River Road\nNew York, NY"
    letter = with_letterhead(LetterContent(title="Going home", language="en", blocks=(("p", "Rest."),)), site)
    html = render_html(letter)
    assert 'src="data:image/jpeg;base64,' in html and "<strong>Riverside General</strong>" in html
    assert "New York, NY" in html and "+1 212 555 0100" in html
    pdf = render_pdf(letter, datetime(2030, 1, 7, tzinfo=UTC))
    assert b"/Subtype /Image" in pdf and b"Riverside General" in pdf

    removed = _form(site, remove_logo="on")
    assert removed.is_valid(), removed.errors
    _save(site, removed, people["admin"])
    site.refresh_from_db()
    assert bytes(site.logo) == b"" and "<img" not in render_html(with_letterhead(letter, site))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.png", b"<script>alert(1)</script>", "not a PNG or JPEG"),
        ("logo.gif", b"GIF89a" + _image("GIF")[6:], "not a PNG or JPEG"),
        ("logo.png", b"\x89PNG" + b"0" * (600 * 1024), "larger than 512 KB"),
    ],
)
def test_a_file_that_is_not_a_small_png_or_jpeg_is_refused(
    site: Site, people: dict[str, Any], name: str, content: bytes, message: str
) -> None:
    form = _form(site, SimpleUploadedFile(name, content))
    assert not form.is_valid()
    assert message in " ".join(form.errors["logo_upload"])
    site.refresh_from_db()
    assert bytes(site.logo) == b""


def test_every_page_names_its_icon_and_the_browser_default_finds_it(client: Any) -> None:
    login = client.get("/login/").content.decode()
    assert 'rel="icon"' in login and "favicon.svg" in login
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301
    icon = client.get(moved["Location"])
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
