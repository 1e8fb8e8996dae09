"""Render a patient letter from blocks of plain text into HTML (printable) and PDF, and store it as issued.

A letter is a title and a list of blocks: ("h", heading), ("p", paragraph), ("ul", [items]). The caller writes
the words (in the patient's language); this module only lays them out, so the HTML and the PDF say the same.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from fpdf import FPDF

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.messaging.models import Letter

Block = tuple[str, Any]

# The PDF's built-in font covers Latin-1 (English, Spanish); a few typographic marks are mapped to it.
_PDF_MAP = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "≤": "<=",
        "≥": ">=",
        "→": "->",
        "•": "-",
    }
)


def letter_language(preferred: str) -> str:
    """The language a letter is written in: the recipient's, if Kyphos speaks it, else English."""
    spoken = {code for code, _name in settings.LANGUAGES}
    return preferred if preferred in spoken else "en"


def words_in(language: str, table: Mapping[str, Any]) -> dict[str, str]:
    """A table of lazy, translatable sentences put into ``language`` (for one letter or message)."""
    with translation.override(language):
        return {key: str(text) for key, text in table.items()}


@dataclass(frozen=True)
class LetterContent:
    title: str
    language: str
    blocks: tuple[Block, ...]
    footer: str = ""
    # The letterhead: lines at the top (the site's name, address, phone) and its logo (PNG or JPEG bytes).
    header: tuple[str, ...] = ()
    logo: bytes = b""
    logo_type: str = ""


def with_letterhead(content: LetterContent, site: Any) -> LetterContent:
    """The letter under the site's letterhead: its logo, name, address and phone."""
    lines = tuple(line.strip() for line in (site.name, *site.address.splitlines(), site.phone) if line.strip())
    return replace(content, header=lines, logo=bytes(site.logo or b""), logo_type=site.logo_type or "")


def render_html(content: LetterContent) -> str:
    logo = (
        f"data:{content.logo_type};base64,{base64.b64encode(content.logo).decode('ascii')}"
        if content.logo and content.logo_type
        else ""
    )
    return render_to_string("messaging/letter.html", {"letter": content, "logo": logo})


def _pdf_text(text: str) -> str:
    return text.translate(_PDF_MAP).encode("latin-1", "replace").decode("latin-1")


def render_pdf(content: LetterContent, created_at: datetime) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_creation_date(created_at)
    # Plain text streams: a few kilobytes more, and the words can be checked and searched in the file.
    pdf.set_compression(False)
    pdf.set_title(_pdf_text(content.title))
    pdf.set_lang(content.language)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    if content.header or content.logo:
        _pdf_letterhead(pdf, content)
    pdf.set_font("Helvetica", "B", 17)
    pdf.multi_cell(0, 9, _pdf_text(content.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for kind, value in content.blocks:
        if kind == "h":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 7, _pdf_text(value), new_x="LMARGIN", new_y="NEXT")
        elif kind == "p":
            pdf.set_font("Helvetica", "", 12)
            pdf.multi_cell(0, 6.5, _pdf_text(value), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif kind == "ul":
            pdf.set_font("Helvetica", "", 12)
            for item in value:
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(0, 6.5, _pdf_text(f"-  {item}"), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
    if content.footer:
        pdf.ln(4)
        pdf.set_font("Helvetica", "I", 10)
        pdf.multi_cell(0, 5, _pdf_text(content.footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pdf_letterhead(pdf: FPDF, content: LetterContent) -> None:
    top = pdf.get_y()
    if content.logo:
        pdf.image(BytesIO(content.logo), x=pdf.l_margin, y=top, h=16)
    pdf.set_font("Helvetica", "", 9)
    for number, line in enumerate(content.header):
        if number == 0:
            pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 4.5, _pdf_text(line), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
    pdf.set_y(max(pdf.get_y(), top + (18 if content.logo else 0)) + 4)


@transaction.atomic
def issue_letter(actor: Actor, case: Any, kind: str, content: LetterContent) -> Letter:
    """Render and store a letter; the previous letter of the same kind stays on record, marked superseded."""
    moment = clock.current()
    content = with_letterhead(content, case.site)
    Letter.objects.filter(case=case, kind=kind, superseded=False).update(superseded=True)
    letter = Letter.objects.create(
        case=case,
        kind=kind,
        language=content.language,
        html=render_html(content),
        pdf=render_pdf(content, moment),
        created_at=moment,
        created_by=actor.user_or_none,
    )
    audit.record(actor, AuditAction.CREATE, "letter", letter.uuid, patient_uuid=case.patient.uuid, detail=kind)
    return letter


def current_letter(case: Any, kind: str) -> Letter | None:
    return Letter.objects.filter(case=case, kind=kind, superseded=False).first()


def letter_response(letter: Letter, fmt: str, filename: str = "") -> HttpResponse:
    """The stored letter as issued: its HTML, or its PDF shown inline (never re-rendered)."""
    if fmt == "pdf":
        response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename or f"kyphos-{letter.kind}-{letter.uuid}.pdf"}"'
        return response
    return document_response(letter.html)


STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def document_response(html: str) -> HttpResponse:
    """A stored document (a letter, a note) as HTML. Its own <style> block keeps it whole when saved or printed;
    the Content Security Policy lets exactly that block in, by its hash, and no other inline style or script."""
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii") + "'"
        for block in STYLE_BLOCK.findall(html)
    ]
    if hashes:
        response._csp_update = {"style-src": hashes}  # type: ignore[attr-defined]
    return response


def serve_letter(actor: Actor, case: Any, letter: Letter, fmt: str) -> HttpResponse:
    """A staff read of a letter: audited, then the letter as issued."""
    audit.record(
        actor, AuditAction.VIEW, "letter", letter.uuid, patient_uuid=case.patient.uuid, detail=f"{letter.kind} {fmt}"
    )
    return letter_response(letter, fmt)
