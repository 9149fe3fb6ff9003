"""A damaged vault in the desktop app: no traceback at start even with a remembered key, and the unlock dialog says
what is damaged and what to do (real vault file, one flipped byte)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, MemoryKeyring

from app.audit.vault_lifecycle import create_vault
from app.store.vault import KEYRING_SERVICE, vault_path
from app.ui.unlock_dialog import UnlockDialog, unlock_from_keyring
from tests.store.damage import flip


def test_a_damaged_vault_is_named_in_the_unlock_dialog(
    qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    vault = create_vault(data_dir, PASSPHRASE, PASSPHRASE)
    assert vault.remember_in_keyring()
    vault.close()
    flip(vault_path(data_dir), -70)  # the last page's IV

    assert unlock_from_keyring(data_dir) is None  # before: VaultCorrupt (a traceback) at start
    assert (KEYRING_SERVICE, str(vault_path(data_dir))) in memory_keyring.items  # the key is right: kept

    dialog = UnlockDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.passphrase.setText(PASSPHRASE)
    dialog.submit()
    qtbot.waitUntil(dialog.passphrase.isEnabled, timeout=15_000)
    assert f"The vault {vault_path(data_dir)} is damaged" in dialog.error.text()
    assert "custos vault restore BACKUP" in dialog.error.text()
    assert dialog.vault is None and dialog.isVisible()
