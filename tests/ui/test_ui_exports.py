"""Export dialog (Art. 30 records) and "Export subject data…" on a user: files written, hashes shown, on the trail."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui_support import insert_rows, user_row

from app.audit.tables import AuditEvent
from app.core.events import EventBus
from app.policy import versions
from app.scim.server import ScimServer
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.exports.ropa_dialog import RopaExportDialog
from app.ui.identities.view import ResourceBrowser
from app.ui.main_window import MainWindow


@pytest.fixture
def with_default(vault: Vault) -> Vault:
    apply_policy(vault, versions.default_policy_text(), "test")
    return vault


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trail(vault: Vault, kind: str) -> list[AuditEvent]:
    with vault.read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)))


def dialog_for(vault: Vault, qtbot: QtBot, chosen: Path) -> RopaExportDialog:
    dialog = RopaExportDialog(vault, choose_path=lambda _parent, _suggested, _fmt: chosen, operator=lambda: "alice")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_export_dialog_writes_records_and_shows_the_file_hash(
    with_default: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = dialog_for(with_default, qtbot, tmp_path / "records.xlsx")
    formats = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    assert formats == ["xlsx", "ods", "csv", "json", "pdf", "cnil"]
    dialog.browse()
    dialog.set_record("both")
    dialog.export()
    assert dialog.progress.isVisible() and not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20_000)
    out = tmp_path / "records.xlsx"
    assert out.is_file() and not dialog.progress.isVisible()
    assert dialog.written.text() == f"Written: {out}"
    assert dialog.sha256.text() == f"SHA-256: {sha256_of(out)}"
    assert (
        f"Exported under policy v1 sha256:{versions.sha256_of(versions.default_policy_text())}" in dialog.status.text()
    )
    assert len(load_workbook(out).sheetnames) >= 2  # the processor record rides along
    (event,) = trail(with_default, "export.ropa")
    details = json.loads(event.details)
    assert event.actor == "operator:alice"
    assert details["sha256"] == sha256_of(out) and details["format"] == "xlsx" and details["policy_version"] == 1
    # Issue 14 §5: Open and Show in folder, through the system's opener (recorded here instead of launched).
    opened: list[str] = []
    actions = dialog.exported_actions
    actions.opener = lambda url: opened.append(url.toLocalFile()) or True
    assert actions.isVisible()
    actions.open_button.setFocus()
    qtbot.keyClick(actions.open_button, Qt.Key.Key_Space)
    qtbot.keyClick(actions.folder_button, Qt.Key.Key_Space)
    assert opened == [str(out), str(tmp_path)]


def test_format_choice_follows_into_the_path_and_json_holds_one_record(
    with_default: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = dialog_for(with_default, qtbot, tmp_path / "records.xlsx")
    dialog.browse()
    dialog.set_record("both")
    dialog.set_format("json")
    assert dialog.path.text() == str(tmp_path / "records.json")
    assert dialog.record.currentData() == "controller"  # "both" does not fit in one JSON record
    assert not dialog.record.model().item(dialog.record.findData("both")).isEnabled()  # type: ignore[attr-defined]
    dialog.export()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20_000)
    document = json.loads((tmp_path / "records.json").read_text(encoding="utf-8"))
    assert document["record"] == "controller" and document["content_hash"] == dialog.outcome.content_hash  # type: ignore[union-attr]
    assert dialog.sha256.text() == f"SHA-256: {sha256_of(tmp_path / 'records.json')}"


def test_export_into_a_missing_folder_says_so(with_default: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    dialog = dialog_for(with_default, qtbot, tmp_path / "nowhere" / "records.csv")
    dialog.browse()
    dialog.set_format("csv")
    dialog.export()
    qtbot.waitUntil(lambda: "does not exist" in dialog.status.text())
    assert dialog.outcome is None and dialog.written.text() == "" and dialog.export_button.isEnabled()
    assert not dialog.exported_actions.isVisible()  # nothing written: nothing to open
    assert trail(with_default, "export.ropa") == []


def test_subject_export_from_the_users_table(with_default: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    ada, grace = insert_rows(
        with_default, [user_row("ada@example.org", "Ada", now), user_row("grace@example.org", "Grace", now)]
    )
    browser = ResourceBrowser(with_default, "User")
    qtbot.addWidget(browser)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2)
    assert browser.table.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu  # the action's menu
    row = next(r for r in range(2) if browser.model.row_id(r) == ada)
    out_dir = tmp_path / "subject"
    browser.subject_exporter.choose_folder = lambda _parent: out_dir
    browser.subject_exporter.operator = lambda: "alice"
    browser.export_subject(row)
    dialog = browser.subject_exporter.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.finished_ok, timeout=20_000)
    names = sorted(w.path.name for w in dialog.written)
    assert names == [f"subject-{ada}.json", f"subject-{ada}.pdf"]
    for written in dialog.written:
        assert written.path.is_file() and written.sha256 == sha256_of(written.path)
        assert f"{written.path}\nSHA-256: {written.sha256}" in dialog.files.text()
    exported = (out_dir / f"subject-{ada}.json").read_text(encoding="utf-8")
    assert "ada@example.org" in exported and "grace" not in exported and grace not in exported
    assert len(trail(with_default, "export.subject")) == 2


def test_subject_export_cancelled_or_failing(with_default: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    browser = ResourceBrowser(with_default, "User")
    qtbot.addWidget(browser)
    exporter = browser.subject_exporter
    exporter.choose_folder = lambda _parent: None
    assert exporter.export(browser, "no-such-user") is None  # the operator cancelled the folder chooser
    out_dir = tmp_path / "subject"
    exporter.choose_folder = lambda _parent: out_dir
    dialog = exporter.export(browser, "no-such-user")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled())
    assert dialog.status.text().startswith("No user with that id in the mirror.")
    assert not dialog.finished_ok and not out_dir.exists()


def test_main_window_has_the_policy_tab_and_the_records_action(vault: Vault, qtbot: QtBot, tmp_path: Path) -> None:
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=None, bus=bus, tokens=tokens)  # never started: the records say so
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    try:
        tabs = [window.pages.tabText(i) for i in range(window.pages.count())]
        assert "Policy" in tabs
        qtbot.waitUntil(lambda: window.policy_page.catalogue.rowCount() == 12)  # the server's default, installed
        assert window.export_records_action.text() == "Export &Article 30 records…"
        window.export_records_action.trigger()
        dialog = window.records_dialog
        assert dialog is not None and dialog.isVisible() and dialog.server is server
        dialog.path.setText(str(tmp_path / "records.pdf"))
        dialog.set_format("pdf")
        dialog.export()
        qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20_000)
        assert dialog.sha256.text() == f"SHA-256: {sha256_of(tmp_path / 'records.pdf')}"
    finally:
        window.shutdown()
