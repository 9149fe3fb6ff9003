"""The audit timeline as a spreadsheet for an incident responder: the selected entries, or every entry a filter
matches, as CSV or XLSX (pandas), in time order (oldest first; entries of the same time in trail order).

Time order is not quite trail order: a request entry carries the time it was answered and is written later, in a
batch (decision 0034). Entries are read in seq order and put in time order as they stream through a buffer that
holds back the last ``lateness.margin`` of time: no entry is earlier than one written before it by more than that,
so nothing that arrives later can belong before what was let out.

What a row holds is what the trail holds and nothing more: seq, time, kind, actor, outcome, the subject's
pseudonym and the public details. The sealed part of an entry (personal data encrypted under the subject's own
key) is not exported, not even as ciphertext: a column says only whether the entry has one. So no personal value
can reach the file that the trail itself does not show in the clear.

Spreadsheets run formulas: a cell of text beginning with ``=``, ``+``, ``-``, ``@`` (or a tab/CR) is a formula to
Excel and LibreOffice (CSV injection). In XLSX such text is stored as text (cell type string); in CSV, where a
cell has no type, it gets a leading apostrophe, the convention spreadsheets show as "text". The trail's own
values never start that way today (kinds are names, actors carry a prefix, details are JSON objects); the guard
keeps it so whatever a future event holds.

An Excel cell holds at most 32,767 characters; longer text was cut there without a word (pandas warns, Excel
shows what is left), so a list read's details (``read_subjects``, up to 1,000 pseudonyms, ~67,000 characters,
decision 0049) arrived as broken JSON that looked like the entry. In XLSX such a cell says instead how many people
the list held and where it is whole (this timeline as CSV, an audit bundle); any other text over the limit is cut
with a note that says so and how long it was. CSV cells have no limit and keep the whole text.

What the file leaves out (entries the filter does not match, sealed parts, entries pruned before the trail's first)
and that writing it verified nothing are said in it, on an "About this export" sheet (app/exports/timeline_scope.py).

Reading is done on a read connection, so the SCIM endpoint is not held up while a large file is written; only
moving the file into place and recording it on the audit trail take the writer, in one transaction: a file that
is not on the record is removed.
"""

from __future__ import annotations

import heapq
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Connection, select

from app.audit import lateness
from app.audit.pseudonyms import SEALED, public_details
from app.audit.query import EventFilter, count, matching_seqs
from app.audit.tables import AuditEvent
from app.audit.trail import READ_SUBJECTS, canonical, holds_email_address, iso_utc
from app.core.errors import ConfigError, CustosError
from app.exports.recording import policy_for_export, record_written, refuse_other_suffix, staged
from app.exports.spreadsheet import FORMULA_START, XLSX_CELL_LIMIT, XLSX_ILLEGAL
from app.exports.timeline_scope import SHEET, Scope, TrailAtExport
from app.store.vault import Vault

FORMATS = ("csv", "xlsx")
KIND = "export.audit_timeline"
COLUMNS = ("seq", "time_utc", "event", "actor", "outcome", "subject_pseudonym", "details", "sealed_part")
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
WHOLE_ELSEWHERE = "in this timeline exported as CSV, and in an audit bundle"
_CHUNK = 5_000
_A = AuditEvent.__table__
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
IN_LIST_READ = "(in list read)"  # as `audit tail --subject` and the audit page say it

Cancelled = Callable[[], bool]


class TimelineExportCancelled(CustosError):
    def __init__(self) -> None:
        super().__init__("Export cancelled. No file was written and nothing was recorded on the audit trail.")


@dataclass(frozen=True)
class TimelineWritten:
    path: Path
    sha256: str
    rows: int
    first_seq: int | None
    last_seq: int | None
    # what the file leaves out (the filter's misses, sealed parts, pruned entries) and that nothing was verified
    scope: Scope | None = field(default=None, compare=False)


# -- rows ------------------------------------------------------------------------------------------------
class Entry(NamedTuple):
    """An entry as stored: ``details`` is the canonical JSON text the leaf hash covers (parsed only if sealed)."""

    seq: int
    at: str
    kind: str
    actor: str
    outcome: str
    subject: str | None
    details: str


def public_details_text(details: str) -> tuple[str, bool]:
    """The details without the sealed part, as canonical JSON, and whether there was one. The stored text is
    canonical already; only an entry that may hold a sealed part is parsed (a million rows: seconds saved)."""
    if f'"{SEALED}"' not in details:
        return details, False
    parsed = json.loads(details)
    if SEALED not in parsed:
        return details, False
    return canonical(public_details(parsed)).decode(), True


def row_of(entry: Entry) -> dict[str, Any]:
    """One entry as a spreadsheet row: only what the trail shows in the clear (see the module docstring)."""
    details, sealed = public_details_text(entry.details)
    return {
        "seq": entry.seq,
        "time_utc": entry.at,
        "event": entry.kind,
        "actor": entry.actor,
        "outcome": entry.outcome,
        "subject_pseudonym": entry.subject or "",
        "details": details,
        "sealed_part": "yes (encrypted, not exported)" if sealed else "",
    }


def xlsx_cell(text: str, seq: int) -> str:
    """``text`` as an Excel cell can hold it (see the module docstring): as it is when it fits; a list read's people
    as their count; anything else cut, with a note. Never a part of a list presented as the whole."""
    if len(text) <= XLSX_CELL_LIMIT:
        return text
    counted = _people_counted(text, seq)
    if counted is not None and len(counted) <= XLSX_CELL_LIMIT:
        return counted
    note = f" … [cut: {len(text):,} characters in all; the whole text is {WHOLE_ELSEWHERE} (entry seq {seq})]"
    return text[: XLSX_CELL_LIMIT - len(note)] + note


def _people_counted(details: str, seq: int) -> str | None:
    """The details with ``read_subjects`` replaced by its count and where the list is; None for other text."""
    try:
        parsed = json.loads(details)
    except ValueError:  # not JSON (a tampered row): the general rule applies
        return None
    if not isinstance(parsed, dict) or not isinstance(returned := parsed.pop(READ_SUBJECTS, None), list):
        return None
    people = len(returned)
    parsed[f"{READ_SUBJECTS}_count"] = people
    parsed[f"{READ_SUBJECTS}_not_in_this_cell"] = (
        f"the {people} pseudonyms are more than an Excel cell holds; they are {WHOLE_ELSEWHERE} (entry seq {seq})"
    )
    return canonical(parsed).decode()


def _fitted(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Every text cell within Excel's limit (only the few long ones are looked at: a million rows), and without the
    control characters openpyxl refuses: an operator named with one (``--operator`` is free text) made every XLSX
    timeline of the trail that holds it end in an IllegalCharacterError. Shown as ``\ufffd``, as in the registers;
    the CSV keeps them. Also returns how many cells were shortened (the file's "About" sheet counts them)."""
    cut = 0
    for column in COLUMNS[1:]:
        values = frame[column]
        illegal = values.str.contains(XLSX_ILLEGAL)
        if illegal.any():
            frame.loc[illegal, column] = values[illegal].str.replace(XLSX_ILLEGAL, "\ufffd", regex=True)
            values = frame[column]
        long = values.str.len() > XLSX_CELL_LIMIT
        if long.any():
            seqs = frame["seq"][long]
            frame.loc[long, column] = [xlsx_cell(v, int(s)) for v, s in zip(values[long], seqs, strict=True)]
            cut += int(long.sum())
    return frame, cut


def _sealed(frame: pd.DataFrame) -> int:
    return int((frame["sealed_part"] != "").sum())


def frame_of(events: Iterable[Entry]) -> pd.DataFrame:
    return pd.DataFrame([row_of(event) for event in events], columns=list(COLUMNS))


def _defused(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with a leading apostrophe where a cell would start a formula (vectorised: a million rows)."""
    for column in COLUMNS:
        if column == "seq":
            continue
        values = frame[column]
        risky = values.str.startswith(FORMULA_START)
        if risky.any():
            frame[column] = values.where(~risky, "'" + values)
    return frame


# -- which entries -----------------------------------------------------------------------------------------
def filtered_events(conn: Connection, where: EventFilter) -> Iterator[list[Entry]]:
    """Every entry ``where`` matches, oldest first, a chunk at a time. With a subject filter, a list read that
    returned the subject (it has no subject of its own) says so in its subject cell, as ``audit tail --subject``
    and the audit page do: an empty cell read as "about no one", and in XLSX the list itself may be only counted
    (``xlsx_cell``), so nothing on the row said why it was there."""
    searched = where.subject
    for chunk in selected_events(conn, matching_seqs(conn, where)):
        yield [_in_list_read(entry, searched) for entry in chunk] if searched else chunk


def _in_list_read(entry: Entry, searched: str) -> Entry:
    return entry if entry.subject == searched else entry._replace(subject=f"{searched} {IN_LIST_READ}")


_COLUMNS = (_A.c.seq, _A.c.at, _A.c.kind, _A.c.actor, _A.c.outcome, _A.c.subject, _A.c.details)


def selected_events(conn: Connection, seqs: Iterable[int]) -> Iterator[list[Entry]]:
    """The entries with these seqs, in time order, a chunk at a time; a seq the trail does not hold is skipped."""
    yield from in_time_order(_in_seq_order(conn, seqs), lateness.margin(conn))


def _in_seq_order(conn: Connection, seqs: Iterable[int]) -> Iterator[list[Entry]]:
    ordered = sorted(set(seqs))
    for start in range(0, len(ordered), _CHUNK):
        wanted = ordered[start : start + _CHUNK]
        rows = conn.execute(select(*_COLUMNS).where(_A.c.seq.in_(wanted)).order_by(_A.c.seq))
        yield [Entry(*row) for row in rows]


def in_time_order(chunks: Iterable[list[Entry]], margin: timedelta) -> Iterator[list[Entry]]:
    """Chunks in seq order → the same entries by (time, seq), holding back only the last ``margin`` of time.

    An entry is let out once an entry timed ``margin`` after it was read: every entry still to come is timed at
    or after it (the bound of app/audit/lateness.py). Times compare as text: the trail stores one fixed ISO shape.
    """
    waiting: list[tuple[str, int, Entry]] = []
    newest = ""
    for chunk in chunks:
        for entry in chunk:
            at = entry.at if isinstance(entry.at, str) else ""  # a tampered row's time: first, never compared
            heapq.heappush(waiting, (at, entry.seq, entry))
            newest = max(newest, at)
        moment = _parsed(newest)  # once a chunk; a tampered newest time holds everything back to the end
        if moment is None:
            continue
        horizon = iso_utc(moment - margin)
        ready: list[Entry] = []
        while waiting and waiting[0][0] <= horizon:
            ready.append(heapq.heappop(waiting)[2])
        if ready:
            yield ready
    if waiting:
        yield [heapq.heappop(waiting)[2] for _ in range(len(waiting))]


def _parsed(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:  # not a time the trail writes (a tampered row): never a reason to let others out
        return None


# -- writing ---------------------------------------------------------------------------------------------
def write_csv(
    chunks: Iterable[list[Entry]], path: Path, scope: Scope, cancelled: Cancelled | None = None
) -> tuple[list[int], Scope]:
    """Write the chunks as one CSV (UTF-8 with BOM, so Excel reads the accents); returns the seqs written and the
    scope with what was written counted (a CSV is one table: the scope is said by whoever wrote the file)."""
    written: list[int] = []
    sealed = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        frame_of([]).to_csv(handle, index=False)  # the header, even for an empty selection
        for chunk in chunks:
            _check(cancelled)
            frame = frame_of(chunk)
            sealed += _sealed(frame)
            _defused(frame).to_csv(handle, index=False, header=False)
            written.extend(event.seq for event in chunk)
    return written, replace(scope, written=len(written), sealed=sealed)


def write_xlsx(
    chunks: Iterable[list[Entry]], path: Path, scope: Scope, cancelled: Cancelled | None = None
) -> tuple[list[int], Scope]:
    events: list[Entry] = []
    for chunk in chunks:
        _check(cancelled)
        events.extend(chunk)
        if len(events) > XLSX_MAX_ROWS:
            raise ConfigError(
                f"More than {XLSX_MAX_ROWS:,} entries: too many for an Excel sheet. Export them as CSV, "
                "or narrow the filter."
            )
    frame, cut = _fitted(frame_of(events))
    scope = replace(scope, written=len(events), sealed=_sealed(frame), cut_cells=cut)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="Audit timeline", index=False)
        sheet = writer.sheets["Audit timeline"]
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.data_type == "f":  # openpyxl took text beginning with "=" for a formula: keep it text
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        for letter, width in zip("ABCDEFGH", (8, 28, 30, 24, 9, 20, 80, 14), strict=True):
            sheet.column_dimensions[letter].width = width
        _about_sheet(writer.book, scope)
    return [event.seq for event in events], scope


def _about_sheet(book: Any, scope: Scope) -> None:
    """After the entries (the first sheet stays the timeline): what the file holds, leaves out and did not check."""
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(SHEET)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, (item, statement) in enumerate(scope.lines(), start=1):
        label, text = sheet.cell(row=row, column=1, value=item), sheet.cell(row=row, column=2, value=statement)
        label.font, label.alignment, text.alignment = Font(bold=True), wrap, wrap
        label.data_type = text.data_type = "s"  # a filter value starting with "=" stays text
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 30, 110


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def _check(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise TimelineExportCancelled()


def describe_filter(where: EventFilter) -> dict[str, str]:
    """The filter as recorded on the trail: the fields that narrow it, in the trail's own terms."""
    described = {
        "kind_prefix": where.kind_prefix,
        "actor": where.actor,
        "outcome": where.outcome,
        "subject": where.subject,
        "since": iso_utc(where.since) if where.since else None,
        "until": iso_utc(where.until) if where.until else None,
    }
    if where.subject and not _PSEUDONYM.fullmatch(where.subject):
        described["subject"] = "(not a pseudonym; matches no entry)"  # typed text is not put on the trail
    return {name: value for name, value in described.items() if value and not holds_email_address(value)}


def export_timeline(
    vault: Vault,
    fmt: str,
    out: Path,
    operator: str,
    *,
    where: EventFilter | None = None,
    seqs: Iterable[int] | None = None,
    cancelled: Cancelled | None = None,
) -> TimelineWritten:
    """Write the entries ``seqs`` (the selection) or those ``where`` matches to ``out``, and record the export.

    Exactly one of ``where`` and ``seqs`` is given. The file is written under a hidden name beside ``out`` and
    moved into place in the transaction that records it.
    """
    if (where is None) == (seqs is None):
        raise ValueError("give either a filter or a selection")
    if fmt not in WRITERS:
        raise ConfigError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    refuse_other_suffix(out, fmt)
    selection = "selection" if seqs is not None else "filter"
    described = describe_filter(where) if where is not None else {}
    with staged(out) as staging:
        partial = staging.partial
        with vault.read_snapshot() as conn:  # one snapshot: the trail's size and the entries chosen agree
            scope = Scope(TrailAtExport.read(conn), selection, described)
            chunks = selected_events(conn, seqs) if seqs is not None else filtered_events(conn, where or EventFilter())
            try:
                written, scope = WRITERS[fmt](chunks, partial, scope, cancelled)
                os.chmod(partial, 0o600)  # the trail's content: the owner's, as an evidence bundle is
            except OSError as exc:
                raise ConfigError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        _check(cancelled)
        extra: dict[str, Any] = {"selection": selection, "entries": str(len(written))}
        if written:
            extra.update(first_seq=str(min(written)), last_seq=str(max(written)))
        with vault.write_transaction() as conn:
            record = policy_for_export(conn)
            staging.place()
            if described:
                extra["filter"] = json.dumps(described, sort_keys=True, ensure_ascii=False)
            sha = record_written(conn, KIND, operator, out, record.version, fmt, **extra)
    return TimelineWritten(out, sha, len(written), min(written, default=None), max(written, default=None), scope)


def matching(vault: Vault, where: EventFilter) -> int:
    """How many entries the filter matches (what "the whole filtered timeline" will hold)."""
    with vault.read_connection() as conn:
        return count(conn, where)
