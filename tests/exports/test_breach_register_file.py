"""The breach register as a file (Art. 33(5)): each CSV and XLSX read back and held against the register itself —
a time in the file is the time recorded, a late notification says late, formulas stay text — and the export is
all or nothing and on the audit trail with its row count and SHA-256, never the content."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.audit.trail import of_kind
from app.core.errors import ConfigError
from app.exports import register_files
from app.exports.breach_register import HEADERS, HISTORY_SHEET, SHEET, TIMES, export_breach_register
from app.incidents.register import IncidentRegister
from app.incidents.times import LABELS
from app.store.vault import Vault

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AWARE = datetime(2026, 11, 20, 9, 0, 30, tzinfo=UTC)  # seconds: the register compares times to the second
FORMULA = '=HYPERLINK("https://attacker.example/x","open")'
DELAY = "waited for the processor's forensic report"


def _register(vault: Vault) -> IncidentRegister:
    """Three incidents: one notified late (its awareness corrected), one in time, one candidate dismissed."""
    register = IncidentRegister(vault, lambda: NOW)
    late = register.open_incident(FORMULA, "dpo", "+49 30 1234567 called about it", AWARE - timedelta(hours=1))
    register.set_aware(late, "dpo", "logs confirm the export", at=AWARE)
    register.set_aware(late, "dpo", "typo: it was 10:00", at=AWARE + timedelta(minutes=59, seconds=30))
    register.assess(late, "dpo", "risk", "contact data of 40 customers")
    register.notify(late, "dpo", "SA-2026-17", AWARE + timedelta(hours=96), "initial report", DELAY)
    in_time = register.open_incident("Misaddressed payroll e-mail", "dpo", detected_at=NOW - timedelta(days=5))
    register.set_aware(in_time, "dpo", "recipient confirmed", at=NOW - timedelta(days=5))
    register.notify(in_time, "dpo", "SA-2026-18", NOW - timedelta(days=4))
    register.assess(in_time, "dpo", "high_risk", "salaries disclosed")
    register.exempt_from_communication(in_time, "dpo", "a", "the attachment was encrypted")
    dismissed = register.open_candidate_from_alert(7, "bulk_exports")
    register.dismiss(dismissed, "dpo", "a scheduled audit export, not a breach")
    return register


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _utc(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def test_the_csv_says_what_the_register_holds(vault: Vault, tmp_path: Path) -> None:
    register = _register(vault)
    written = export_breach_register(vault, "csv", tmp_path / "breaches.csv", "dpo", "Europe/Berlin", NOW)
    rows = _csv_rows(written.path)
    assert written.rows == 3 and [row["Incident"] for row in rows] == ["1", "2", "3"]
    assert list(rows[0]) == HEADERS
    for row in rows:
        view = register.get(int(row["Incident"]))
        for name in TIMES:  # every time in the file is the time the register holds now
            assert _utc(row[f"{LABELS[name]} (UTC)"]) == view.fields[name], name
    late, in_time, dismissed = rows
    assert late["Controller aware (UTC)"] == "2026-11-20T10:00:00Z" and late["Controller aware: corrections"] == "1"
    # The clock runs from the earliest awareness, whatever was corrected since: the deadline never moves later.
    assert late["72-hour clock runs from (earliest awareness recorded, UTC)"] == "2026-11-20T09:00:30Z"
    assert late["72-hour deadline (UTC)"] == "2026-11-23T09:00:30Z"
    assert late["72-hour deadline (controller's time zone)"] == "2026-11-23 10:00 Europe/Berlin"
    assert late["First notified the authority (UTC)"] == "2026-11-24T09:00:30Z"
    assert late["Notification (Art. 33(1)): in time or late"] == "LATE by 1 d 0 h 00 min"
    assert late["Reasons for the delay (Art. 33(1))"] == DELAY
    assert late["Notifications (initial and follow-ups, Art. 33(4))"].startswith("#1 initial 2026-11-24T09:00:30Z")
    assert late["Title"] == "'" + FORMULA and late["Description"] == "'+49 30 1234567 called about it"
    assert in_time["Notification (Art. 33(1)): in time or late"] == "in time"
    assert in_time["Art. 34 exemption"].startswith("Art. 34(3)(a)") and in_time["Risk (assessment)"].startswith("high")
    assert dismissed["State"] == "dismissed" and dismissed["Dismissed as not a personal-data breach"] == "yes"
    assert dismissed["Opened"].startswith("alert rule bulk_exports") and dismissed["72-hour deadline (UTC)"] == ""
    assert dismissed["Rationale for not notifying (or for dismissing)"] == "a scheduled audit export, not a breach"


def test_the_xlsx_keeps_text_as_text_and_every_time_entry(vault: Vault, tmp_path: Path) -> None:
    register = _register(vault)
    written = export_breach_register(vault, "xlsx", tmp_path / "breaches.xlsx", "dpo", None, NOW)
    book = load_workbook(written.path)
    assert book.sheetnames == [SHEET, HISTORY_SHEET, "About this export"]
    sheet = book[SHEET]
    headers = [cell.value for cell in sheet[1]]
    assert headers == HEADERS
    first = {header: cell for header, cell in zip(headers, sheet[2], strict=True)}
    assert first["Title"].value == FORMULA and first["Title"].data_type == "s"  # shown as text, never run
    assert first["Incident"].value == 1 and first["Controller's time zone"].value == "none known: UTC only"
    assert first["Notification (Art. 33(1)): in time or late"].value.startswith("LATE")
    history = [[cell.value for cell in row] for row in book[HISTORY_SHEET].iter_rows(min_row=2)]
    assert len(history) == sum(len(register.get(n).history) for n in (1, 2, 3))
    aware = [row for row in history if row[0] == 1 and row[1] == "Controller aware"]
    assert [(row[3], row[4], row[7]) for row in aware] == [
        ("2026-11-20T09:00:30Z", "first recorded", "logs confirm the export"),
        ("2026-11-20T10:00:00Z", "correction", "typo: it was 10:00"),
    ]


def test_the_export_is_on_the_trail_with_its_hash_and_never_its_content(vault: Vault, tmp_path: Path) -> None:
    _register(vault)
    written = export_breach_register(vault, "xlsx", tmp_path / "breaches.xlsx", "dpo", None, NOW)
    with vault.read_connection() as conn:
        [event] = of_kind(conn, "export.breach_register")
    assert event.actor == "operator:dpo" and event.details["rows"] == "3" and event.details["format"] == "xlsx"
    assert event.details["sha256"] == hashlib.sha256(written.path.read_bytes()).hexdigest() == written.sha256
    said = json.dumps(event.details)
    assert "HYPERLINK" not in said and DELAY not in said
    assert oct(written.path.stat().st_mode & 0o777) == "0o600"


def test_a_failed_write_leaves_the_earlier_file_and_no_record(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(vault)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "breaches.csv"
    out.write_text("the export of last week\n")

    def disk_full(tables: object, path: Path) -> None:
        path.write_text("half a regis")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(register_files.WRITERS, "csv", disk_full)
    with pytest.raises(ConfigError, match="No space left"):
        export_breach_register(vault, "csv", out, "dpo", None, NOW)
    assert out.read_text() == "the export of last week\n"
    assert [path.name for path in folder.iterdir()] == ["breaches.csv"]  # no partial file left behind
    with vault.read_connection() as conn:
        assert of_kind(conn, "export.breach_register") == []


def test_an_empty_register_is_a_header_row(vault: Vault, tmp_path: Path) -> None:
    written = export_breach_register(vault, "csv", tmp_path / "none.csv", "dpo", None, NOW)
    assert written.rows == 0 and _csv_rows(written.path) == []
    assert written.path.read_text(encoding="utf-8-sig").splitlines()[0].startswith("Incident,Title,State")
