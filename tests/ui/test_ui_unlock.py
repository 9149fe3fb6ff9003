"""The unlock dialog: first-run creation with confirmation, readable errors, KDF off the GUI thread."""

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


def test_first_run_asks_twice_and_explains_mismatch(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    assert dialog.creating and dialog.confirmation.isVisible()
    dialog.passphrase.setText(PASSPHRASE)
    dialog.confirmation.setText(PASSPHRASE + "x")
    dialog.submit()
    assert dialog.error.isVisible() and "differ" in dialog.error.text()
    assert dialog.confirmation.text() == "" and dialog.passphrase.text() == PASSPHRASE
    assert not Vault.exists(data_dir)


def test_first_run_refuses_a_short_passphrase(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    dialog.passphrase.setText("short")
    dialog.confirmation.setText("short")
    dialog.submit()
    assert "at least" in dialog.error.text()
    assert dialog.passphrase.text() == ""
    assert not Vault.exists(data_dir)


def test_first_run_creates_the_vault_off_the_gui_thread(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    dialog.passphrase.setText(PASSPHRASE)
    dialog.confirmation.setText(PASSPHRASE)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.submit()
        assert not dialog.passphrase.isEnabled()  # disabled while the KDF runs in the pool
        dialog.reject()  # refused while busy
        assert dialog.isVisible()
    assert dialog.vault is not None and Vault.exists(data_dir)
    assert dialog.passphrase.text() == dialog.confirmation.text() == ""
    dialog.vault.close()


def test_wrong_passphrase_is_readable_and_clears_the_field(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    assert not dialog.creating and not dialog.confirmation.isVisible()
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
