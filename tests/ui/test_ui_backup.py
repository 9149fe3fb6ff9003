"""Vault → Back up the vault… (decision 0059): the encrypted copy from the app, after the passphrase is asked again;
a refusal says why and writes nothing; the Overview says when the last backup was recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.audit.trail import of_kind
from app.scim.server import ScimServer
from app.services.overview import backups_line
from app.store.vault import Vault
from app.ui.backup import BackupAction
from app.ui.main_window import MainWindow


def _action(qtbot: QtBot, vault: Vault, target: Path, allowed: bool = True) -> BackupAction:
    parent = QWidget()
    qtbot.addWidget(parent)
    asked: list[str] = []

    def reauthenticate(_parent: QWidget, why: str) -> bool:
        asked.append(why)
        return allowed

    action = BackupAction(parent, vault, reauthenticate, choose=lambda _parent, _suggested: str(target))
    action.asked = asked  # type: ignore[attr-defined]
    return action


def test_a_backup_from_the_app_is_the_encrypted_vault_and_is_on_the_record(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    with vault.read_connection() as conn:
        line = backups_line(conn, datetime.now(UTC), vault.path.parent)
    assert line.startswith("none recorded: Vault → Back up the vault…")
    target = tmp_path / "monday.vault"
    action = _action(qtbot, vault, target)
    action.run()
    qtbot.waitUntil(lambda: action.last_message.startswith("Backup written:"), timeout=10_000)
    assert action.asked == ["back up the vault"]  # type: ignore[attr-defined]
    assert target.read_bytes()[:16] == vault.path.read_bytes()[:16]  # the vault's salt (the key is the epoch's)
    assert b"SQLite format 3" not in target.read_bytes()[:16]  # encrypted from the first page
    assert "erasure-ledger.jsonl" in action.last_message and str(target) in action.last_message
    assert "backup-keys.json" in action.last_message and "backup key epoch 1, begun with this backup" in (
        action.last_message)
    assert "Vault → Backup keys…" in action.last_message  # where a DPO without a terminal destroys the epoch
    with vault.read_connection() as conn:
        assert of_kind(conn, "vault.backup.created", limit=1)
        line = backups_line(conn, datetime.now(UTC), vault.path.parent)
    assert line.startswith("last recorded ") and "(today)" in line
    for box in action.parent.findChildren(QMessageBox):
        box.close()


def test_a_refused_passphrase_or_an_existing_file_writes_nothing(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    target = tmp_path / "refused.vault"
    _action(qtbot, vault, target, allowed=False).run()
    assert not target.exists()
    existing = tmp_path / "existing.vault"
    existing.write_bytes(b"an earlier backup")
    action = _action(qtbot, vault, existing)
    action.run()
    qtbot.waitUntil(lambda: bool(action.last_message), timeout=10_000)
    assert "already exists" in action.last_message and existing.read_bytes() == b"an earlier backup"
    for box in action.parent.findChildren(QMessageBox):
        box.close()


def test_the_vault_menu_offers_it(running: tuple[MainWindow, ScimServer]) -> None:
    window, _server = running
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Back up the vault…" in texts
    assert window.backup.vault is window.vault
