""" "Export register…" on the Incidents and Requests pages: the whole register as XLSX or CSV through the app's
service, the file read back against the register, the requester's sealed details never in it, and the export on
the audit trail; the button needs no selection (it is the register, not one entry)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audit.trail import of_kind
from app.dsr import settings
from app.dsr.register import DsrRegister
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.ui.exports.register_dialog import RegisterExportDialog
from app.ui.incidents.view import IncidentsPage
from app.ui.requests.view import RequestsPage
from tests.dsr.dsr_support import ADDRESS, REQUESTER, sealed_details

HOUR = timedelta(hours=1)


def _export(qtbot: QtBot, dialog: RegisterExportDialog, out: Path, fmt: str) -> None:
    dialog.set_format(fmt)
    assert Path(dialog.path.text()).suffix == f".{fmt}"  # the suggested name follows the format
    dialog.path.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None or "could not" in dialog.status.text(), timeout=10_000)
    assert dialog.outcome is not None, dialog.status.text()


def test_the_incidents_page_exports_the_register_as_xlsx(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    register = IncidentRegister(vault)
    incident = register.open_incident("Stolen laptop", "dpo", detected_at=aware - HOUR)
    register.set_aware(incident, "dpo", "theft reported to the police", at=aware)
    register.notify(incident, "dpo", "SA-1", aware + 80 * HOUR, delay_reason="the inventory took a week")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.clearSelection()
    assert page.register_button.isEnabled()  # the whole register: no incident need be selected
    qtbot.keyClick(page.table, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)  # E&xport register…
    qtbot.waitUntil(lambda: page.register_dialog is not None, timeout=2000)
    dialog = page.register_dialog
    assert dialog is not None and dialog.windowTitle() == "Export the breach register"
    assert dialog.chosen_format() == "xlsx"  # what an authority opens
    _export(qtbot, dialog, tmp_path / "breaches.xlsx", "xlsx")

    sheet = load_workbook(tmp_path / "breaches.xlsx")["Breach register"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert row["Controller aware (UTC)"] == f"{aware:%Y-%m-%dT%H:%M:%SZ}"
    assert row["Notification (Art. 33(1)): in time or late"] == "LATE by 8 h 00 min"
    assert row["Reasons for the delay (Art. 33(1))"] == "the inventory took a week"
    assert dialog.status.text() == "Exported 1 incident; recorded on the audit trail."
    assert dialog.outcome is not None and dialog.outcome.sha256 in dialog.written.text()
    assert dialog.exported_actions.isVisible()
    with vault.read_connection() as conn:
        [event] = of_kind(conn, "export.breach_register")
    assert (event.details["rows"], event.details["format"]) == ("1", "xlsx")


def test_the_requests_page_exports_the_register_without_the_sealed_details(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    settings.save(vault.path.parent, country="GB", subdivision="ENG", zone="Europe/London")
    received = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    request_id = DsrRegister(vault).open(["erasure"], "letter", "dpo", received, private=sealed_details())
    page = RequestsPage(vault)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    chosen: list[tuple[Path, str]] = []

    def choose(_parent: object, start: Path, fmt: str) -> Path:
        chosen.append((start, fmt))
        return tmp_path / "requests.csv"

    qtbot.keyClick(page.table, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)  # Ex&port register…
    qtbot.waitUntil(lambda: page.register_dialog is not None, timeout=2000)
    dialog = page.register_dialog
    assert dialog is not None and "left out" in dialog.note.text()
    dialog.set_format("csv")
    dialog.choose_path = choose
    dialog.browse()  # the file dialog, as the Choose… button opens it
    assert chosen[0][1] == "csv" and chosen[0][0].name.startswith("custos-request-register-")
    assert dialog.path.text() == str(tmp_path / "requests.csv")
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None or "could not" in dialog.status.text(), timeout=10_000)

    text = (tmp_path / "requests.csv").read_text(encoding="utf-8-sig")
    assert REQUESTER not in text and ADDRESS not in text and "asked by letter" not in text
    with (tmp_path / "requests.csv").open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    sealed = next(header for header in row if "NOT EXPORTED" in header)
    assert row["Request"] == request_id and row["Received (UTC)"] == "2026-01-31T10:00:00Z"
    assert row[sealed] == "held sealed in Custos, left out"
    assert dialog.status.text() == "Exported 1 request; recorded on the audit trail."
    with vault.read_connection() as conn:
        [event] = of_kind(conn, "export.dsr_register")
    assert (event.details["rows"], event.details["format"]) == ("1", "csv")


def test_a_missing_folder_is_said_in_the_dialog(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    page = RequestsPage(vault)
    qtbot.addWidget(page)
    page.export_register()
    dialog = page.register_dialog
    assert dialog is not None
    dialog.path.setText(str(tmp_path / "gone" / "requests.xlsx"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "does not exist" in dialog.status.text(), timeout=10_000)
    assert dialog.outcome is None and dialog.export_button.isEnabled()
    with vault.read_connection() as conn:
        assert of_kind(conn, "export.dsr_register") == []
