"""The unlock dialog: readable errors, KDF off the GUI thread. Creating the vault is the first-run assistant's
(test_ui_first_run.py)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE

from app.store.vault import Vault
from app.ui.unlock_dialog import UnlockDialog


def _dialog(qtbot: QtBot, data_dir: Path) -> UnlockDialog:
    dialog = UnlockDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_wrong_passphrase_is_readable_and_clears_the_field(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    dialog.passphrase.setText("not the passphrase")
    dialog.submit()
    assert not dialog.passphrase.isEnabled()
    qtbot.waitUntil(dialog.passphrase.isEnabled, timeout=10_000)
    assert "does not unlock" in dialog.error.text()
    assert dialog.passphrase.text() == ""
    assert dialog.vault is None and dialog.isVisible()


def test_unlock_succeeds(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    dialog.passphrase.setText(PASSPHRASE)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.submit()
    assert dialog.vault is not None and dialog.vault.is_open
    dialog.vault.close()


def test_empty_passphrase_is_not_sent_to_the_kdf(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    dialog.submit()
    assert dialog.passphrase.isEnabled() and "Type the passphrase" in dialog.error.text()
