"""Writing one of an incident's documents (the authority's draft, the letter to the people affected) as a pair:
Markdown to edit and PDF to send, both private (0600: their free text may identify people), made in a staging
folder and renamed into the folder the operator named, so that a link already there under either name is
replaced, never written through (``app.documents.private``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.documents.private import private, staged_into


def write_markdown_and_pdf(out_dir: Path, stem: str, markdown: str, write_pdf: Callable[[Path], None]) -> list[Path]:
    """``stem``.md holding ``markdown`` and ``stem``.pdf written by ``write_pdf``; their paths in ``out_dir``.

    ``write_pdf`` imports the PDF library itself: fpdf2 costs ~0.3 s to import, paid only when a PDF is written."""
    names = [f"{stem}.md", f"{stem}.pdf"]
    with staged_into(out_dir) as staging:
        md_path, pdf_path = (private(staging / name) for name in names)  # 0600 before anything is written
        md_path.write_text(markdown, encoding="utf-8")
        write_pdf(pdf_path)
    return [out_dir / name for name in names]
