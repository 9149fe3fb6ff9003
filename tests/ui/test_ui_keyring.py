"""Optional unlock through the OS keyring. The machine running the tests has no OS keyring, so a small
in-memory backend stands in for it (the only fake here); the vault, the KDF and the dialog are real."""

from __future__ import annotations

from pathlib import Path

import keyring
from keyring.backends import fail
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, MemoryKeyring

from app.audit.vault_lifecycle import create_vault
from app.store.vault import KEYRING_SERVICE, vault_path
from app.ui.first_run.pages import PassphrasePage
from app.ui.unlock_dialog import UnlockDialog, unlock_from_keyring

NO_KEYRING = "No system keyring that protects secrets is available here: the passphrase is asked each time."


def test_remembered_key_unlocks_without_the_passphrase(
    qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    create_vault(data_dir, PASSPHRASE, PASSPHRASE).close()
    dialog = UnlockDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.passphrase.setText(PASSPHRASE)
    dialog.remember.setChecked(True)
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.vault is not None, timeout=15_000)
    assert dialog.vault is not None
    dialog.vault.close()
    stored = memory_keyring.items[(KEYRING_SERVICE, str(vault_path(data_dir)))]
    assert PASSPHRASE not in stored  # the derived key, never the passphrase

    reopened = unlock_from_keyring(data_dir)
    assert reopened is not None and reopened.is_open
    reopened.close()


def test_stale_remembered_key_is_forgotten(data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    vault = create_vault(data_dir, PASSPHRASE, PASSPHRASE)
    assert vault.remember_in_keyring()
    vault.change_passphrase(PASSPHRASE, "another passphrase!", "another passphrase!")
    vault.close()
    assert unlock_from_keyring(data_dir) is None
    assert memory_keyring.items == {}


def test_nothing_remembered_means_the_dialog(data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    create_vault(data_dir, PASSPHRASE, PASSPHRASE).close()
    assert unlock_from_keyring(data_dir) is None


def test_without_a_keyring_the_box_is_not_offered(qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring) -> None:
    """Before: with no keyring (keyring's fail backend, as on a bare Linux session) the box could be ticked and the
    note promised an unlock without typing; the key was not stored and only the log said so."""
    offered = UnlockDialog(data_dir)
    qtbot.addWidget(offered)
    assert offered.remember.isEnabled()
    keyring.set_keyring(fail.Keyring())  # memory_keyring puts the previous backend back afterwards
    dialog = UnlockDialog(data_dir)
    qtbot.addWidget(dialog)
    assert not dialog.remember.isEnabled()
    assert dialog.remember_note.text() == NO_KEYRING
    dialog._set_enabled(True)  # after a wrong passphrase: still not offered
    assert not dialog.remember.isEnabled()


def test_the_first_run_offers_the_keyring_only_where_there_is_one(
    qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    """Before: the assistant's box could be ticked without a keyring, its label cut at 640 px."""
    offered = PassphrasePage()
    qtbot.addWidget(offered)
    assert offered.remember.isEnabled()
    keyring.set_keyring(fail.Keyring())
    page = PassphrasePage()
    qtbot.addWidget(page)
    assert not page.remember.isEnabled()
    assert page.remember.text() == "&Remember the key in the system keyring"
    assert page.remember_note.text() == NO_KEYRING
