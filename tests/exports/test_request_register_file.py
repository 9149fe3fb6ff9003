"""The register of data subject requests as a file (Art. 5(2)): read back as CSV and XLSX and held against the
register — the received time is the one recorded, each right's outcome with its ground or link, a late answer says
late — and never a sealed value: the requester's name, address, note, the identity means and the reasoning typed
stay encrypted under the person's key; the file says only whether a request holds them."""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import load_workbook

from app.audit.trail import of_kind
from app.dsr import model
from app.exports.dsr_register import ABOUT_SHEET, HEADERS, SEALED_HEADER, SHEET, export_dsr_register
from app.services.dsr_actions import act
from app.store.vault import Vault
from tests.dsr.dsr_support import ADDRESS, REQUESTER, register_at, sealed_details, with_person

NOW = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
NOTE = "=cmd|' /C calc'!A0 asked by letter"
SEALED = (REQUESTER, ADDRESS, NOTE, "passport seen at the desk", "pending employment tribunal",
          "many systems to search", "job title corrected in HR")  # fmt: skip


def _register(vault: Vault, out: Path) -> tuple[str, str, str]:
    """An access-and-erasure request acted on, answered and closed (its details crypto-shredded with the person);
    an unmatched one partly refused and extended, its details sealed; a refusal answered late (its reasoning
    sealed); a misrouted one with no detail at all."""
    subject = with_person(vault)
    register, _clock = register_at(vault, NOW.isoformat())
    private = {**sealed_details(), "note": NOTE}
    erased = register.open(["access", "erasure"], "letter", "dpo", RECEIVED, subject_id=subject, private=private)
    register.verify(erased, "verified", "dpo", "passport seen at the desk")
    later = RECEIVED.replace(hour=11)
    partly = register.open(["rectification", "erasure"], "email", "dpo", later, private=sealed_details())
    register.refuse(partly, "art17-3e", "pending employment tribunal", "dpo", "erasure")
    register.record_task(partly, "job title corrected in HR", "dpo")
    register.extend(partly, 2, "many systems to search", date(2026, 2, 5), "dpo")
    late = register.open(["access"], "form", "dpo", datetime(2025, 12, 1, 10, 0, tzinfo=UTC))
    register.refuse(late, "art11", "no identity matches", "dpo")
    register.record_answer(late, "dpo", date(2026, 2, 9), [])
    act(register, erased, "dpo", out)
    register.record_answer(erased, "dpo", date(2026, 2, 10), [])
    register.close(erased, "dpo")
    register.open(["not_gdpr"], "phone", "dpo", RECEIVED.replace(hour=12))  # nothing sealed: no detail typed
    return erased, partly, late


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["Request"]: row for row in csv.DictReader(handle)}


def test_the_csv_says_what_the_register_holds_and_no_sealed_value(vault: Vault, tmp_path: Path) -> None:
    erased, partly, late = _register(vault, tmp_path / "subject")
    written = export_dsr_register(vault, "csv", tmp_path / "requests.csv", "dpo", NOW)
    raw = written.path.read_text(encoding="utf-8-sig")
    assert [value for value in SEALED if value in raw] == []
    assert raw.splitlines()[0].endswith(f'"{SEALED_HEADER}"') and "NOT EXPORTED" in SEALED_HEADER
    rows = _rows(written.path)
    assert written.rows == 4 and list(rows)[:3] == [late, erased, partly]  # in the order received
    assert list(rows[erased]) == HEADERS
    register, _ = register_at(vault, NOW.isoformat())
    for request_id, row in rows.items():  # a time in the file is the time recorded
        view = register.get(request_id)
        assert datetime.fromisoformat(row["Received (UTC)"].replace("Z", "+00:00")) == view.received
        assert row["Deadline (day in the controller's zone)"] == (view.deadline.isoformat() if view.gdpr else "")
    (misrouted,) = [row for request_id, row in rows.items() if request_id not in (erased, partly, late)]
    # not a GDPR request: no Art. 12(3) date, none to be late for (it had a due date and "not answered: OVERDUE")
    assert misrouted["Due (one month, Art. 12(3))"] == "not a data subject request: no GDPR deadline"
    assert misrouted["Answered: in time or late"] == "not a data subject request: no GDPR deadline"
    assert misrouted["Deadline ends (UTC)"] == "" and misrouted["State"] == "open"
    # partly refused and extended by two months: the refusal is due a month from receipt (Art. 12(4)), and the
    # State column says "in progress", not the identifier in_progress
    assert rows[partly]["Refusal due (Art. 12(4): one month from receipt)"] == "2026-03-02"
    assert rows[partly]["Deadline (day in the controller's zone)"] == "2026-03-02"
    assert rows[partly]["State"] == "in progress"
    assert rows[erased]["Refusal due (Art. 12(4): one month from receipt)"] == ""
    done = register.get(erased)
    assert rows[erased]["Received (UTC)"] == "2026-01-31T10:00:00Z" and rows[erased]["Controller's time zone"] == (
        "Europe/London"
    )
    assert rows[erased]["Identity verification"] == "verified"
    # no check recorded is not "not needed": the file said a decision nobody had made (as dsr show did)
    assert rows[partly]["Identity verification"] == model.NO_CHECK_RECORDED
    erasure_id, export_sha = done.step("erasure").link_ref, done.step("access").link_ref
    assert rows[erased]["Linked erasure requests"] == erasure_id and erasure_id.startswith("er-")
    assert rows[erased]["Linked subject exports (SHA-256 of the JSON)"] == export_sha
    assert rows[erased]["Access (Art. 15): outcome"] == f"done (export {export_sha}), 2026-02-10T09:00:00Z"
    assert rows[erased]["Answered: in time or late"] == "in time" and rows[erased]["Closed (UTC)"] == (
        "2026-02-10T09:00:00Z"
    )
    assert rows[erased][SEALED_HEADER].startswith("crypto-shredded")
    assert f"subject-{done.subject}" not in raw and "subject-" not in rows[erased]["Files attached (kind, SHA-256)"]
    assert rows[partly]["Erasure (Art. 17): outcome"].startswith("refused (art17-3e)")
    assert rows[partly]["Refusal grounds"].startswith("Art. 17(3)(e)")
    assert (rows[partly]["Extended (Art. 12(3))"], rows[partly]["Extended due"]) == ("by 2 months", "2026-04-30")
    assert rows[partly]["Answered: in time or late"].startswith("not answered at export")
    assert rows[partly]["Matched to an identity"] == "no" and rows[partly][SEALED_HEADER].startswith("held sealed")
    assert rows[late]["Answered: in time or late"].startswith("LATE by") and rows[late]["Outcome"] == "Refused"
    assert rows[late][SEALED_HEADER].startswith("held sealed")  # the refusal's reasoning
    assert list(rows.values())[3][SEALED_HEADER] == "none recorded"


def test_the_xlsx_names_what_is_left_out_and_holds_no_sealed_value(vault: Vault, tmp_path: Path) -> None:
    _register(vault, tmp_path / "subject")
    written = export_dsr_register(vault, "xlsx", tmp_path / "requests.xlsx", "dpo", NOW)
    with zipfile.ZipFile(written.path) as archive:  # every part of the workbook, not only the cells read below
        text = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    assert [value for value in SEALED if value in text] == []
    book = load_workbook(written.path)
    assert book.sheetnames == [SHEET, ABOUT_SHEET]
    assert [cell.value for cell in book[SHEET][1]] == HEADERS and book[SHEET].max_row == 5
    about = {row[0]: row[1] for row in book[ABOUT_SHEET].iter_rows(values_only=True)}
    assert "personal data" in about["Left out"] and "not in this file" in about["Left out"]
    with vault.read_connection() as conn:
        [event] = of_kind(conn, "export.dsr_register")
    assert (event.details["rows"], event.details["format"], event.details["sha256"]) == ("4", "xlsx", written.sha256)
