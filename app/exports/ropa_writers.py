"""Writing a record of processing as XLSX, ODS, CSV, JSON, PDF or the CNIL model.

XLSX follows the ICO template's layout (sheet "Template": contact block in rows 1–6, column headers in row 9,
one activity per row from row 10, ICO columns A–AD in the ICO's order, Custos' own columns after them), so rows
paste into the ICO sheet. ODS carries the same sheets for LibreOffice. CSV is one record in the same layout: the
controller and DPO block first (Art. 30(1)(a)), then the header row and the rows. JSON is the machine-readable
record (resources/schemas/ropa-v1.schema.json). PDF is for reading: a 33-column table is illegible on A4, so
each processing activity gets its own section of fields, and the record ends with a sign-off block. "cnil" is the
CNIL's model as an ODS workbook: one form per processing activity, French labels (app/exports/ropa_cnil.py).

Every tabular format repeats the content hash in the "Record created / last updated / version hash" column, so
any single row still names the exact record it came from.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.audit.trail import iso_utc
from app.documents.pdf import ExportPdf
from app.exports.ropa import CONTACT_FIELDS, Activity, Ropa
from app.exports.spreadsheet import XLSX_ILLEGAL, defused

FORMATS = ("xlsx", "ods", "csv", "json", "pdf", "cnil")
MULTI_RECORD_FORMATS = ("xlsx", "ods", "pdf", "cnil")  # the processor record can ride along as a further sheet
SUFFIXES = {"cnil": "ods"}  # the file suffix of a format whose name is not one


def suffix_of(fmt: str) -> str:
    return SUFFIXES.get(fmt, fmt)
HEADER_ROW = 9  # the ICO template's header row (1-based)
TEMPLATE_SHEET = "Template"
PROCESSOR_SHEET = "Processor record"
ABOUT_SHEET = "About this export"
_WIDE_COLUMNS = {"security": 70, "retention": 55, "personal_data": 45, "purpose": 40, "adherence": 45, "record": 50}


def output_cells(ropa: Ropa, activity: Activity) -> list[str]:
    """An activity's cells as written to a sheet: the record column also names the content hash."""
    cells = list(activity.cells)
    index = [c.key for c in ropa.columns].index("record")
    cells[index] = f"{cells[index]}; content SHA-256 {ropa.content_hash}"
    return cells


def _metadata_line(ropa: Ropa) -> str:
    return f"Policy {ropa.policy_stamp}; generated {iso_utc(ropa.generated_at)}; content SHA-256 {ropa.content_hash}"


# -- sheets (shared by XLSX and ODS) ----------------------------------------------------------------------------
@dataclass
class Sheet:
    name: str
    rows: list[list[str]]
    bold_rows: set[int] = field(default_factory=set)  # 1-based
    header_row: int | None = None  # 1-based
    widths: list[float] = field(default_factory=list)


def template_sheet(ropa: Ropa, name: str) -> Sheet:
    """The ICO layout: title (1), contact fields (2), contacts (3–6), metadata (7), headers (9), rows (10…)."""
    rows: list[list[str]] = [[ropa.title], ["", *CONTACT_FIELDS]]
    rows += [[contact.role, *contact.cells()] for contact in ropa.contacts]
    while len(rows) < 6:
        rows.append([""])
    rows += [[_metadata_line(ropa)], [""]]
    rows.append([column.header for column in ropa.columns])
    rows += [output_cells(ropa, activity) for activity in ropa.activities]
    if not ropa.activities:
        rows += [[note] for note in ropa.notes[1:]]
    widths = [float(_WIDE_COLUMNS.get(column.key, 30)) for column in ropa.columns]
    return Sheet(name, rows, {1, 2, HEADER_ROW}, HEADER_ROW, widths)


def about_sheet(records: Sequence[Ropa]) -> Sheet:
    rows: list[list[str]] = [["Field", "Value"]]
    for ropa in records:
        # The trail's newest entry when the record was built, not a signed checkpoint (`audit verify` lists those):
        # the chain hash is what ties the record to the trail; `audit export` proves that entry under a signature.
        checkpoint = (
            f"audit event #{ropa.audit_head_seq} (the trail's newest entry when this record was generated; not a "
            f"signed checkpoint), chain hash {ropa.audit_head_hash}"
            if ropa.audit_head_seq is not None
            else "empty audit trail"
        )
        rows += [
            ["Record", ropa.title],  # the title names its article already: once, not twice
            ["Generated at (UTC)", iso_utc(ropa.generated_at)],
            ["Policy version", str(ropa.policy_version)],
            ["Policy SHA-256", ropa.policy_sha256],
            ["Policy applied at (UTC)", iso_utc(ropa.policy_applied_at)],
            ["Audit trail checkpoint", checkpoint],
            ["Content SHA-256", ropa.content_hash],
            *[["Note", note] for note in ropa.notes],
            [""],
        ]
    rows.append(
        [
            "How to verify",
            "Export the same record as JSON: remove 'content_hash', serialise with sorted keys, no spaces and UTF-8, "
            "and take the SHA-256. The export is also on Custos' audit trail (kind export.ropa) with its file hash.",
        ]
    )
    return Sheet(ABOUT_SHEET, rows, {1}, None, [28, 110])


def _sheets(ropa: Ropa, processor: Ropa | None) -> list[Sheet]:
    first = TEMPLATE_SHEET if ropa.record == "controller" else PROCESSOR_SHEET
    sheets = [template_sheet(ropa, first)]
    if processor is not None:
        sheets.append(template_sheet(processor, PROCESSOR_SHEET))
    sheets.append(about_sheet([ropa] if processor is None else [ropa, processor]))
    return sheets


# -- formats ----------------------------------------------------------------------------------------------------
def _write_xlsx(sheets: list[Sheet], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name)
        for r, values in enumerate(sheet.rows, start=1):
            for c, value in enumerate(values, start=1):
                # a policy stored before its text was checked for control characters must still export
                cell = ws.cell(row=r, column=c, value=XLSX_ILLEGAL.sub("\ufffd", value) if value else value)
                cell.data_type = "s"  # text stays text: a value starting with "=" is never a formula
                cell.alignment = wrap
                if r in sheet.bold_rows or (c == 1 and sheet.header_row and 3 <= r <= 6):
                    cell.font = bold
        for c, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = width
        if sheet.header_row:
            ws.freeze_panes = ws.cell(row=sheet.header_row + 1, column=2)
            ws.page_setup.orientation = "landscape"
            for r in (1, 7):  # title and metadata span the sheet instead of widening column A
                ws.cell(row=r, column=1).alignment = Alignment(wrap_text=False)
    workbook.properties.creator = "Custos"
    workbook.save(path)


def _write_ods(sheets: list[Sheet], path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TableColumnProperties, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    plain = Style(name="Wrapped", family="table-cell")
    plain.addElement(TableCellProperties(wrapoption="wrap", verticalalign="top"))
    strong = Style(name="Bold", family="table-cell")
    strong.addElement(TableCellProperties(wrapoption="wrap", verticalalign="top"))
    strong.addElement(TextProperties(fontweight="bold"))
    for style in (plain, strong):
        document.automaticstyles.addElement(style)
    column_styles: dict[float, Style] = {}
    for sheet in sheets:
        table = Table(name=sheet.name)
        for width in sheet.widths:
            if width not in column_styles:
                column_style = Style(name=f"Col{len(column_styles) + 1}", family="table-column")
                column_style.addElement(TableColumnProperties(columnwidth=f"{width * 0.19:.2f}cm"))
                document.automaticstyles.addElement(column_style)
                column_styles[width] = column_style
            table.addElement(TableColumn(stylename=column_styles[width]))
        for r, values in enumerate(sheet.rows, start=1):
            row = TableRow()
            for c, value in enumerate(values or [""], start=1):
                bold = r in sheet.bold_rows or (c == 1 and sheet.header_row is not None and 3 <= r <= 6)
                cell = TableCell(valuetype="string", stylename=strong if bold else plain)
                for line in value.split("\n"):
                    cell.addElement(P(text=line))
                row.addElement(cell)
            table.addElement(row)
        document.spreadsheet.addElement(table)
    document.save(str(path))


def _write_csv(ropa: Ropa, path: Path) -> None:
    """The Template sheet's rows: title, the contact block (Art. 30(1)(a) / 30(2)(a)), metadata, header (row 9),
    activities; so the CSV states who is responsible, not only what is done."""
    # UTF-8 with a byte-order mark: Excel's "CSV UTF-8"; without it Excel misreads every accented name.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for row in template_sheet(ropa, TEMPLATE_SHEET).rows:
            writer.writerow([defused(cell) for cell in row])  # a "+49 …" telephone is text, not a formula


def _write_json(ropa: Ropa, path: Path) -> None:
    path.write_text(json.dumps(ropa.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _pdf_record(pdf: ExportPdf, ropa: Ropa) -> None:
    pdf.heading(ropa.title, 1)
    pdf.paragraph(
        f"Policy {ropa.policy_stamp}, in force since {iso_utc(ropa.policy_applied_at)}. "
        f"Generated {iso_utc(ropa.generated_at)}. Content SHA-256 {ropa.content_hash}.",
        size=7.5,
    )
    pdf.heading(f"Contact details (Art. {ropa.article}(a))", 2)
    pdf.grid(["Role", *CONTACT_FIELDS], [[c.role, *c.cells()] for c in ropa.contacts], (1.1, 1.6, 2.2, 1.6, 1.2))
    for note in ropa.notes:
        pdf.paragraph(note, size=7.5)
    rows = [output_cells(ropa, activity) for activity in ropa.activities]
    # Fields with the same value in every activity are printed once, not repeated in each section.
    common = {
        index
        for index, column in enumerate(ropa.columns)
        if len(rows) > 1 and column.key != "activity" and len({row[index] for row in rows}) == 1
    }
    if common:
        pdf.heading("Common to every processing activity below", 2)
        pdf.key_values([(_label(ropa.columns[i].header, ropa.columns[i].gdpr), rows[0][i]) for i in sorted(common)])
    for number, (activity, cells) in enumerate(zip(ropa.activities, rows, strict=True), start=1):
        if pdf.will_page_break(40):
            pdf.add_page()
        pdf.heading(f"{number}. {ropa.cell(activity, 'activity')}", 2)
        pdf.key_values(
            [
                (_label(column.header, column.gdpr), value)
                for index, (column, value) in enumerate(zip(ropa.columns, cells, strict=True))
                if column.key != "activity" and index not in common
            ]
        )
    _sign_off(pdf, ropa)


SIGN_OFF_FIELDS = ("Name", "Role", "Date", "Signature")


def _sign_off(pdf: ExportPdf, ropa: Ropa) -> None:
    """Who reviewed and approved this record, and when: filled in by hand on the printed or signed copy."""
    if pdf.will_page_break(60):
        pdf.add_page()
    pdf.heading("Sign-off", 2)
    pdf.paragraph(
        f"Reviewed and approved as the record of processing activities (Art. {ropa.article} GDPR) at the date "
        "below. Content SHA-256 " + ropa.content_hash + ".",
        size=7.5,
    )
    blank = "\n\n"
    pdf.grid(SIGN_OFF_FIELDS, [[blank] * len(SIGN_OFF_FIELDS), [blank] * len(SIGN_OFF_FIELDS)], (1.6, 1.4, 0.9, 2.1))


def _label(header: str, article: str) -> str:
    return f"{header} — Art. {article}" if article else header


def _footer(ropa: Ropa) -> list[str]:
    return [
        f"{ropa.title} · policy {ropa.policy_stamp}",
        f"Generated {iso_utc(ropa.generated_at)} · content SHA-256 {ropa.content_hash}",
    ]


def _write_pdf(ropa: Ropa, processor: Ropa | None, path: Path) -> None:
    pdf = ExportPdf(ropa.title, _footer(ropa))
    _pdf_record(pdf, ropa)
    if processor is not None:
        pdf.add_page()  # closes the last page of the first record under that record's footer
        pdf.footer_lines = _footer(processor)
        _pdf_record(pdf, processor)
    pdf.save(path)


def write(ropa: Ropa, fmt: str, path: Path, *, processor: Ropa | None = None) -> Path:
    """Write ``ropa`` as ``fmt`` to ``path``; ``processor`` adds the Art. 30(2) record to XLSX, ODS and PDF."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if processor is not None and fmt not in MULTI_RECORD_FORMATS:
        raise ValueError(f"{fmt} holds one record; write the processor record to its own file")
    path = Path(path)
    if fmt == "xlsx":
        _write_xlsx(_sheets(ropa, processor), path)
    elif fmt == "ods":
        _write_ods(_sheets(ropa, processor), path)
    elif fmt == "csv":
        _write_csv(ropa, path)
    elif fmt == "json":
        _write_json(ropa, path)
    elif fmt == "cnil":
        from app.exports.ropa_cnil import cnil_sheets

        _write_ods(cnil_sheets(ropa, processor), path)
    else:
        _write_pdf(ropa, processor, path)
    return path
