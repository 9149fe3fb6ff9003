"""Exports from the Audit page: the selection or the filtered timeline as CSV/XLSX, then Open / Show in folder."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from PySide6.QtCore import QItemSelectionModel, QSize, QUrl
from pytestqt.qtbot import QtBot

from app.audit.query import EventFilter
from app.audit.trail import Event, append
from app.store.vault import Vault
from app.ui.audit.timeline_dialog import TimelineExportDialog
from app.ui.audit.view import AuditPage
from app.ui.widgets import documents_dir

SCREEN_AT_200 = QSize(960, 540)


def seed(vault: Vault, n: int) -> None:
    start = datetime.now(UTC)
    with vault.write_transaction() as conn:
        for i in range(n):
            failed = i % 5 == 0
            append(
                conn,
                Event(
                    "scim.auth.failed" if failed else "scim.request",
                    "anonymous" if failed else "token:entra",
                    "failure" if failed else "success",
                    details={"status": 401 if failed else 200},
                    at=start + timedelta(seconds=i),
                ),
            )


def loaded_page(qtbot: QtBot, vault: Vault) -> AuditPage:
    page = AuditPage(vault, verifier=None)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    return page


def select_rows(page: AuditPage, rows: list[int]) -> list[int]:
    selection = page.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        selection.select(page.model.index(row, 0), flags)
    return sorted(page.model.event_at(row).seq for row in rows)


def last_entry(vault: Vault) -> tuple[str, dict[str, object]]:
    with vault.read_connection() as conn:
        kind, details = conn.exec_driver_sql("SELECT kind, details FROM audit_events ORDER BY seq DESC LIMIT 1").one()
    return kind, json.loads(details)


def run_export(qtbot: QtBot, dialog: TimelineExportDialog, out: Path, fmt: str) -> None:
    dialog.set_format(fmt)
    dialog.path.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None or "could not" in dialog.status.text(), timeout=10_000)
    assert dialog.outcome is not None, dialog.status.text()


def test_the_selection_exports_as_xlsx_and_offers_open_and_show_in_folder(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    seed(vault, 40)
    page = loaded_page(qtbot, vault)
    chosen = select_rows(page, [0, 2, 7])

    dialog = page.export_timeline()
    assert dialog.use_selection.isChecked() and dialog.use_selection.text() == "The 3 selected entries"
    assert Path(dialog.path.text()).suffix == ".csv"
    run_export(qtbot, dialog, tmp_path / "selected.xlsx", "xlsx")

    frame = pd.read_excel(tmp_path / "selected.xlsx", dtype=str)
    assert [int(seq) for seq in frame["seq"]] == chosen
    assert "Exported 3 entries" in dialog.status.text() and dialog.outcome is not None
    assert dialog.outcome.sha256 in dialog.written.text()
    opened: list[QUrl] = []
    dialog.exported_actions.opener = lambda url: opened.append(url) or True
    assert dialog.exported_actions.isVisible()
    dialog.exported_actions.open_button.click()
    dialog.exported_actions.folder_button.click()
    assert [url.toLocalFile() for url in opened] == [str(tmp_path / "selected.xlsx"), str(tmp_path)]
    kind, details = last_entry(vault)
    assert kind == "export.audit_timeline" and details["selection"] == "selection" and details["format"] == "xlsx"


def test_the_whole_filtered_timeline_exports_as_csv(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    seed(vault, 700)  # more than one page of the table: the export reads the trail, not what is loaded
    page = loaded_page(qtbot, vault)
    page.outcome.setCurrentText("failure")
    qtbot.waitUntil(lambda: page.model.rowCount() == 140, timeout=5000)

    dialog = page.export_timeline()
    assert not dialog.use_selection.isEnabled() and dialog.use_filter.isChecked()
    qtbot.waitUntil(lambda: "(140)" in dialog.use_filter.text(), timeout=5000)
    run_export(qtbot, dialog, tmp_path / "failures.csv", "csv")

    with (tmp_path / "failures.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 140 and {row["outcome"] for row in rows} == {"failure"}
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)  # oldest first
    _kind, details = last_entry(vault)
    assert details["selection"] == "filter" and json.loads(str(details["filter"])) == {"outcome": "failure"}


def test_the_file_dialog_starts_in_documents_and_a_bad_folder_is_told(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    seed(vault, 5)
    asked: list[Path] = []
    dialog = TimelineExportDialog(
        vault, EventFilter(), [], choose_path=lambda _p, suggested, _f: asked.append(suggested) or None
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert Path(dialog.path.text()).parent == Path(documents_dir())
    dialog.browse()
    assert asked and asked[0].parent == Path(documents_dir())
    dialog.path.setText(str(tmp_path / "nowhere" / "x.csv"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "does not exist" in dialog.status.text(), timeout=5000)
    assert not dialog.exported_actions.isVisible() and dialog.export_button.isEnabled()
    assert dialog.minimumSizeHint().width() <= SCREEN_AT_200.width()
    assert dialog.sizeHint().height() <= SCREEN_AT_200.height()
