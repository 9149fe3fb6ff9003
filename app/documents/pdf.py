"""fpdf2 helpers shared by the PDF exports: Unicode fonts, headings, key/value tables, a footer on every page.

DejaVu Sans is embedded (subset) so any name renders, and text stays extractable: a reader can search the PDF
and a test can check what it says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from app.core.paths import resources_dir

FONT = "DejaVu"
BODY_SIZE = 8.5
_HEADING_SIZES = {1: 15.0, 2: 11.5, 3: 10.0}
_KEEP_WITH_HEADING = 14.0  # mm: room for the first lines under a heading, or it starts the next page
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(232, 236, 242))


class ExportPdf(FPDF):
    """An A4 document (landscape by default) whose footer shows ``footer_lines`` and "Page n of N"."""

    def __init__(self, title: str, footer_lines: Sequence[str], landscape: bool = True) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        fonts = resources_dir() / "fonts"
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.footer_lines = list(footer_lines)
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(True, margin=12 + 4 * (len(self.footer_lines) + 1))
        self.set_title(title)
        self.set_creator("Custos")
        self.set_author("Custos")
        self.set_font(FONT, size=BODY_SIZE)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-(8 + 3.5 * (len(self.footer_lines) + 1)))
        self.set_font(FONT, size=6.5)
        self.set_text_color(90, 90, 90)
        for line in self.footer_lines:
            self.cell(0, 3.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 3.5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    # -- content -------------------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> None:
        size = _HEADING_SIZES.get(level, BODY_SIZE)
        if self.page_no() and self.will_page_break(size + _KEEP_WITH_HEADING):
            # A heading stays with what it heads: the subject export's last heading stood alone at the foot of a
            # page, its table on the next one.
            self.add_page()
        else:
            self.ln(2 if level > 1 else 0)
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=BODY_SIZE)
        self.ln(1)

    def paragraph(self, text: str, size: float = BODY_SIZE) -> None:
        self.set_font(FONT, size=size)
        self.multi_cell(0, size * 0.48, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=BODY_SIZE)
        self.ln(1)

    def key_values(self, pairs: Sequence[tuple[str, str]], key_share: float = 0.3) -> None:
        """A two-column table: the field's name in bold on the left, its value on the right."""
        widths = (key_share, 1 - key_share)
        with self.table(
            col_widths=widths,
            first_row_as_headings=False,
            line_height=BODY_SIZE * 0.5,
            text_align="LEFT",
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            padding=1,
        ) as table:
            for key, value in pairs:
                row = table.row()
                row.cell(key, style=FontFace(emphasis="BOLD"))
                row.cell(value)
        self.ln(2)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None) -> None:
        """A table with a shaded header row, repeated on each page it spans."""
        with self.table(
            col_widths=tuple(widths) if widths else None,
            headings_style=_HEADINGS,
            line_height=BODY_SIZE * 0.5,
            text_align="LEFT",
            padding=1,
        ) as table:
            heading = table.row()
            for text in header:
                heading.cell(text)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)
        self.ln(2)

    def save(self, path: Path) -> Path:
        self.output(str(path))
        return path
