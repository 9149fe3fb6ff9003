"""The audit timeline as CSV/XLSX: the right entries, nothing sealed, no formula, and the export on the trail."""

from __future__ import annotations

import csv
import json
import random
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from app.audit.query import EventFilter
from app.audit.trail import READ_SUBJECTS, Event, append, iso_utc
from app.audit.verify import verify_trail
from app.core.errors import ConfigError
from app.exports.audit_timeline import (
    COLUMNS,
    KIND,
    XLSX_CELL_LIMIT,
    Entry,
    TimelineExportCancelled,
    export_timeline,
    in_time_order,
)
from app.store.vault import Vault
from tests.audit.conftest import START, random_trail
from tests.conftest import LiveServer
from tests.list_reads import add_users, list_read

SECRETS = ("@example.org", "Zoë Ñandú")  # what random_trail seals as personal data


@pytest.fixture
def trail(vault: Vault) -> Vault:
    with vault.write_transaction() as conn:
        random_trail(conn, random.Random(7), 60)
    return vault


def last_event(vault: Vault) -> tuple[str, str, dict[str, object]]:
    with vault.read_connection() as conn:
        row = conn.exec_driver_sql("SELECT kind, actor, details FROM audit_events ORDER BY seq DESC LIMIT 1").one()
    return row[0], row[1], json.loads(row[2])


def stored(vault: Vault, where: str = "1=1") -> list[tuple[object, ...]]:
    with vault.read_connection() as conn:
        return list(conn.exec_driver_sql(f"SELECT seq, kind, actor, subject, details FROM audit_events WHERE {where}"))


def test_the_filtered_timeline_as_csv_holds_every_match_oldest_first_and_is_recorded(
    trail: Vault, tmp_path: Path
) -> None:
    out = tmp_path / "timeline.csv"
    where = EventFilter(outcome="failure", since=START + timedelta(seconds=70))
    expected = [row for row in stored(trail, "outcome = 'failure' AND at >= '2025-03-01T08:01:10'")]

    written = export_timeline(trail, "csv", out, "dpo", where=where)

    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert [int(r["seq"]) for r in rows] == [row[0] for row in expected] and len(rows) == written.rows > 5
    assert all(r["outcome"] == "failure" for r in rows)
    first = expected[0]
    assert (rows[0]["event"], rows[0]["actor"], rows[0]["subject_pseudonym"]) == (first[1], first[2], first[3] or "")
    kind, actor, details = last_event(trail)
    assert (kind, actor) == (KIND, "operator:dpo")
    assert details["selection"] == "filter" and details["entries"] == str(len(rows))
    assert details["sha256"] == written.sha256 and details["format"] == "csv"
    assert json.loads(str(details["filter"])) == {"outcome": "failure", "since": "2025-03-01T08:01:10.000000Z"}
    with trail.read_connection() as conn:
        assert verify_trail(conn).ok


def test_the_selection_as_xlsx_holds_only_those_entries_and_no_sealed_value(trail: Vault, tmp_path: Path) -> None:
    sealed = [row[0] for row in stored(trail) if "sealed" in json.loads(str(row[4]))]
    assert sealed, "the fixture trail seals personal data"
    chosen = sorted({sealed[0], 2, 41})
    out = tmp_path / "selection.xlsx"

    written = export_timeline(trail, "xlsx", out, "dpo", seqs=chosen)

    frame = pd.read_excel(out, dtype=str)
    assert list(frame.columns) == list(COLUMNS)
    assert [int(s) for s in frame["seq"]] == sorted(chosen)
    assert (written.rows, written.first_seq, written.last_seq) == (len(chosen), chosen[0], chosen[-1])
    row = frame[frame["seq"] == str(sealed[0])].iloc[0]
    assert row["sealed_part"].startswith("yes") and "sealed" not in json.loads(row["details"])
    with zipfile.ZipFile(out) as archive:
        inside = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    assert not any(secret in inside for secret in SECRETS), "a sealed personal value reached the file"
    _kind, _actor, details = last_event(trail)
    assert details["selection"] == "selection" and details["entries"] == str(len(chosen)) and "filter" not in details


def about(path: Path) -> dict[str, str]:
    """The workbook's "About this export" sheet as item → statement."""
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Audit timeline", "About this export"]  # the entries stay the first sheet
    return {str(item): str(statement) for item, statement in workbook["About this export"].iter_rows(values_only=True)}


def test_a_filtered_xlsx_says_what_it_leaves_out_and_that_nothing_was_verified(trail: Vault, tmp_path: Path) -> None:
    """A responder's timeline for one outcome looked exactly like the whole trail: nothing in the file said that a
    filter chose the rows, how many of the trail's entries it left out, that sealed details are not in it, or that
    writing it checked nothing; a tampered trail's rows went out as they stood."""
    with trail.write_transaction() as conn:  # the first entries gone, as after a prune
        conn.exec_driver_sql("DELETE FROM audit_events WHERE seq <= 3")
    held = stored(trail)
    failures = stored(trail, "outcome = 'failure'")
    sealed = [row for row in failures if "sealed" in json.loads(str(row[4]))]
    out = tmp_path / "failures.xlsx"

    written = export_timeline(trail, "xlsx", out, "dpo", where=EventFilter(outcome="failure"))

    facts = about(out)
    assert written.rows == len(failures) > 0 and len(held) > len(failures)
    assert facts["The trail when exported"] == f"{len(held)} entries, seq 4 to {held[-1][0]}"
    assert facts["Chosen by"] == 'the filter {"outcome": "failure"}'
    left_out = len(held) - len(failures)
    assert facts["Left out"] == f"{left_out} of the trail's {len(held)} entries (not matched by the filter)"
    assert facts["Before the trail's first entry"].startswith("entries 1 to 3 were no longer on the trail")
    assert sealed, "the fixture trail seals personal data in some failures"
    assert facts["Sealed personal details"].startswith(f"{len(sealed)} of these entries have a sealed part")
    assert facts["Integrity"].startswith("Writing this file did not verify the trail")
    assert written.scope is not None and written.scope.summary() == (
        f"Left out: {len(held) - len(failures)} of the trail's {len(held)} entries (not matched by the filter); "
        f"entries 1–3 were no longer on the trail; the sealed parts of {len(sealed)} entries. "
        "The trail was not verified by this export (`custos audit verify`)."
    )


def test_an_unfiltered_xlsx_says_it_left_nothing_out(trail: Vault, tmp_path: Path) -> None:
    out = tmp_path / "all.xlsx"
    held = len(stored(trail))
    written = export_timeline(trail, "xlsx", out, "dpo", where=EventFilter())
    facts = about(out)
    assert facts["Chosen by"] == "no filter: every entry of the trail"
    assert facts["Left out"] == "none of the trail's entries" and written.rows == held
    assert "Before the trail's first entry" not in facts


def test_text_that_a_spreadsheet_would_run_stays_text(vault: Vault, tmp_path: Path) -> None:
    with vault.write_transaction() as conn:
        event = append(conn, Event("test.formula", '=HYPERLINK("http://x")', details={"n": 1}))
    written_csv = export_timeline(vault, "csv", tmp_path / "f.csv", "dpo", seqs=[event.seq])
    written_xlsx = export_timeline(vault, "xlsx", tmp_path / "f.xlsx", "dpo", seqs=[event.seq])

    with written_csv.path.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.DictReader(handle))["actor"] == '\'=HYPERLINK("http://x")'
    cell = openpyxl.load_workbook(written_xlsx.path).active["D2"]
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://x")')


def test_a_list_read_of_a_thousand_people_is_a_valid_xlsx_cell_that_counts_them(
    live: LiveServer, tmp_path: Path
) -> None:
    """A 1,000-result page's details (~68,000 characters) went into one cell: pandas cut it to Excel's 32,767 with
    only a warning, and the sheet showed broken JSON holding ~480 of the 1,000 pseudonyms as the entry's details."""
    add_users(live, "timelined", 1000)
    entry = list_read(live, "timelined", 1000)
    vault = live.server.vault
    xlsx = export_timeline(vault, "xlsx", tmp_path / "t.xlsx", "dpo", seqs=[entry.seq]).path
    csv_file = export_timeline(vault, "csv", tmp_path / "t.csv", "dpo", seqs=[entry.seq]).path

    sheet = openpyxl.load_workbook(xlsx).active
    longest = max(len(str(cell.value)) for row in sheet.iter_rows() for cell in row if cell.value is not None)
    assert longest <= XLSX_CELL_LIMIT
    header = [cell.value for cell in sheet[1]]
    details = json.loads(sheet.cell(2, header.index("details") + 1).value)
    assert READ_SUBJECTS not in details and details["read_subjects_count"] == 1000 and details["results"] == 1000
    where = details["read_subjects_not_in_this_cell"]
    assert "1000 pseudonyms" in where and "CSV" in where and "audit bundle" in where and f"seq {entry.seq}" in where
    with csv_file.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert json.loads(row["details"]) == entry.details  # the CSV keeps the whole list


def test_a_subject_s_timeline_says_which_rows_are_list_reads_that_returned_them(
    live: LiveServer, tmp_path: Path
) -> None:
    """Before: the timeline of one subject's pseudonym held the list reads that returned them with an empty subject
    cell (as if about no one) while `audit tail --subject` said "P (in list read)"; in XLSX a long list is only
    counted, so nothing on the row said why it was there."""
    add_users(live, "named", 3)
    entry = list_read(live, "named", 3)
    person = entry.details[READ_SUBJECTS][1]
    vault = live.server.vault
    where = EventFilter(subject=person)
    xlsx = export_timeline(vault, "xlsx", tmp_path / "t.xlsx", "dpo", where=where).path
    csv_file = export_timeline(vault, "csv", tmp_path / "t.csv", "dpo", where=where).path

    rows = list(openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True))
    subject = rows[0].index("subject_pseudonym")
    assert [(row[0], row[subject]) for row in rows[1:]] == [(entry.seq, f"{person} (in list read)")]
    with csv_file.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["subject_pseudonym"] == f"{person} (in list read)" and json.loads(row["details"]) == entry.details


def test_an_actor_with_a_control_character_does_not_stop_the_xlsx(vault: Vault, tmp_path: Path) -> None:
    """An operator named with an ESC (``--operator`` took any text) made every XLSX timeline of the trail end in
    openpyxl's IllegalCharacterError, a traceback; the CSV keeps the name as it was recorded."""
    with vault.write_transaction() as conn:
        event = append(conn, Event("test.actor", "operator:dpo\x1b[2J\x00", details={"n": 1}))
    written = export_timeline(vault, "xlsx", tmp_path / "c.xlsx", "dpo", seqs=[event.seq])
    assert openpyxl.load_workbook(written.path).active["D2"].value == "operator:dpo\ufffd[2J\ufffd"
    written_csv = export_timeline(vault, "csv", tmp_path / "c.csv", "dpo", seqs=[event.seq])
    with written_csv.path.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.DictReader(handle))["actor"] == "operator:dpo\x1b[2J\x00"


def test_any_other_text_too_long_for_a_cell_is_cut_and_says_so(vault: Vault, tmp_path: Path) -> None:
    with vault.write_transaction() as conn:
        event = append(conn, Event("test.long", "system:test", details={"note": "y" * 40_000}))
    written = export_timeline(vault, "xlsx", tmp_path / "l.xlsx", "dpo", seqs=[event.seq])
    cell = str(openpyxl.load_workbook(written.path).active["G2"].value)
    assert len(cell) <= XLSX_CELL_LIMIT and cell.startswith('{"note":"yyy')
    assert cell.endswith(f"[cut: 40,011 characters in all; the whole text is in this timeline exported as CSV, and in "
                         f"an audit bundle (entry seq {event.seq})]")  # fmt: skip


def test_a_cancelled_or_failed_export_leaves_no_file_and_nothing_on_the_trail(trail: Vault, tmp_path: Path) -> None:
    before = len(stored(trail))
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(TimelineExportCancelled):
        export_timeline(trail, "csv", folder / "c.csv", "dpo", where=EventFilter(), cancelled=lambda: True)
    with pytest.raises(ConfigError, match="does not exist"):
        export_timeline(trail, "csv", folder / "missing" / "c.csv", "dpo", where=EventFilter())
    with pytest.raises(ConfigError, match="Unknown format"):
        export_timeline(trail, "ods", folder / "c.ods", "dpo", where=EventFilter())
    assert list(folder.iterdir()) == [] and len(stored(trail)) == before


def test_a_typed_subject_that_is_not_a_pseudonym_is_not_put_on_the_trail(trail: Vault, tmp_path: Path) -> None:
    written = export_timeline(
        trail, "csv", tmp_path / "s.csv", "dpo", where=EventFilter(subject="jane.doe@example.org")
    )
    assert written.rows == 0
    _kind, _actor, details = last_event(trail)
    assert json.loads(str(details["filter"])) == {"subject": "(not a pseudonym; matches no entry)"}


def test_the_timeline_is_in_time_order_where_requests_were_written_after_later_changes(
    vault: Vault, tmp_path: Path
) -> None:
    """Request entries carry the time they were answered and are written later, in a batch (decision 0034): the
    responder's timeline puts them where they happened, not where they were written."""
    start = START.replace(year=2031)  # after every entry the vault already holds
    with vault.write_transaction() as conn:
        first = append(conn, Event("scim.resource.updated", "token:okta", at=start + timedelta(seconds=0.3))).seq
        answered = start + timedelta(seconds=0.1)
        for _ in range(3):
            append(conn, Event("scim.request", "token:okta", details={"status": 200}, at=answered))
        last = append(conn, Event("scim.resource.updated", "token:okta", at=start + timedelta(seconds=0.4))).seq
    out = tmp_path / "timeline.csv"
    written = export_timeline(vault, "csv", out, "dpo", where=EventFilter(since=start))
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["seq"]), r["event"]) for r in rows] == [
        (first + 1, "scim.request"), (first + 2, "scim.request"), (first + 3, "scim.request"),
        (first, "scim.resource.updated"), (last, "scim.resource.updated"),
    ]  # fmt: skip
    assert [r["time_utc"] for r in rows] == sorted(r["time_utc"] for r in rows)
    assert (written.first_seq, written.last_seq) == (first, last)
    details = last_event(vault)[2]
    assert (details["first_seq"], details["last_seq"]) == (str(first), str(last))


def test_time_order_streams_with_a_bounded_buffer(vault: Vault) -> None:
    """Entries out of time order by at most the margin come out sorted, one-entry chunks or one chunk alike."""
    rng = random.Random(11)
    entries = []
    for seq in range(1, 400):
        moment = START + timedelta(seconds=seq) - timedelta(seconds=rng.choice((0, 0, 0, 5, 30)))  # ≤ 30 s late
        entries.append(Entry(seq, iso_utc(moment), "scim.request", "token:okta", "success", None, "{}"))
    expected = sorted(entries, key=lambda e: (e.at, e.seq))
    for size in (1, 7, 400):
        chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
        out = [entry for chunk in in_time_order(chunks, timedelta(seconds=30)) for entry in chunk]
        assert out == expected
    held = max(len(chunk) for chunk in in_time_order([[e] for e in entries], timedelta(seconds=30)))
    assert held < 40  # about 30 s of entries held back at once, not the whole timeline
