"""A heading is never the last line of a page: what it heads follows it on the same page."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from app.documents.pdf import ExportPdf


def test_a_heading_at_the_foot_of_a_page_moves_to_the_next_with_its_content(tmp_path: Path) -> None:
    pdf = ExportPdf("Headings", ["footer"], landscape=False)
    while not pdf.will_page_break(12):  # fill the page to just above its last lines
        pdf.paragraph("Filler line of the document body.")
    pdf.heading("Your requests in our request register", 2)
    pdf.paragraph("The first line under the heading.")
    path = tmp_path / "headings.pdf"
    pdf.save(path)
    pages = [page.extract_text() for page in PdfReader(path).pages]
    assert len(pages) == 2
    heading_page = next(i for i, text in enumerate(pages) if "request register" in text)
    assert "The first line under the heading." in pages[heading_page], pages
