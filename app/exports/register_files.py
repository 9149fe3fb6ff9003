"""A register as a file an authority or an auditor can be given: CSV or XLSX, one row per entry, written whole or
not at all, and on the audit trail (the breach register, Art. 33(5); the data-subject-request register, Art. 5(2)).

The CSV is the first table alone: one header row, then the rows, UTF-8 with a byte-order mark (Excel's
"CSV UTF-8"; without it Excel misreads every accented word), each text cell guarded against formula injection
(``spreadsheet.defused``). The XLSX holds every table as a sheet, the first one the same as the CSV; cells are
typed (text stays text, a count is a number), within Excel's cell limit (``spreadsheet.xlsx_text``).

Written under a hidden name beside the target (``recording.staged``), readable by its owner only (free text in a
register may name people), and moved into place in the transaction that records it: ``export.<register>`` with
the format, the row count and the file's SHA-256, never its content.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import ConfigError
from app.exports.recording import policy_for_export, record_written, refuse_other_suffix, staged
from app.exports.spreadsheet import defused, xlsx_text
from app.store.vault import Vault

FORMATS = ("csv", "xlsx")
Cell = str | int | None


@dataclass(frozen=True)
class Table:
    name: str  # the sheet's name (at most 31 characters, Excel's limit)
    headers: Sequence[str]
    rows: list[list[Cell]]
    widths: Sequence[float] = field(default_factory=tuple)  # per column; 22 where not given


@dataclass(frozen=True)
class RegisterWritten:
    path: Path
    sha256: str  # of the file as written
    rows: int  # entries of the register in the file (its first table)


def iso(moment: datetime | None) -> str:
    """``2026-11-27T09:00:30Z``: UTC, to the second as the registers compare times (a fraction only if recorded)."""
    if moment is None:
        return ""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds").replace("+00:00", "Z")


def _text(value: Cell) -> str:
    return "" if value is None else str(value)


def write_csv(tables: Sequence[Table], path: Path) -> None:
    """The first table: header row and rows (the others are the XLSX's further sheets)."""
    table = tables[0]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([defused(header) for header in table.headers])
        for row in table.rows:
            writer.writerow([defused(_text(cell)) for cell in row])


def write_xlsx(tables: Sequence[Table], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for table in tables:
        sheet = workbook.create_sheet(table.name[:31])
        lines: list[list[Cell]] = [list(table.headers), *table.rows]
        for r, values in enumerate(lines, start=1):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c, value=_xlsx_value(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text: a value starting with "=" is never a formula
                cell.alignment = wrap
                if r == 1:
                    cell.font = bold
        for c in range(1, len(table.headers) + 1):
            width = table.widths[c - 1] if c <= len(table.widths) else 22
            sheet.column_dimensions[get_column_letter(c)].width = width
        sheet.freeze_panes = "B2"  # the header row and the entry's id stay in view
    workbook.properties.creator = "Custos"
    workbook.save(path)


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, str):
        return xlsx_text(value, "in this register exported as CSV")
    return value


WRITERS: dict[str, Callable[[Sequence[Table], Path], None]] = {"csv": write_csv, "xlsx": write_xlsx}


def export_register(
    vault: Vault, kind: str, fmt: str, out: Path, operator: str, build: Callable[[], Sequence[Table]]
) -> RegisterWritten:
    """Write the tables ``build`` reads as ``fmt`` to ``out`` and record the export as ``kind``. The register is
    read before the writer is taken: only moving the file into place and recording it hold up the SCIM endpoint."""
    if fmt not in WRITERS:
        raise ConfigError(f"Choose a format: one of {', '.join(FORMATS)}.")
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    refuse_other_suffix(out, fmt)
    tables = build()
    with staged(out) as staging:
        try:
            WRITERS[fmt](tables, staging.partial)
            os.chmod(staging.partial, 0o600)  # free text of a register may name people: the owner's only
        except OSError as exc:
            raise ConfigError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        rows = len(tables[0].rows)
        with vault.write_transaction() as conn:
            record = policy_for_export(conn)
            staging.place()
            sha = record_written(conn, kind, operator, out, record.version, fmt, rows=str(rows))
    return RegisterWritten(out, sha, rows)
