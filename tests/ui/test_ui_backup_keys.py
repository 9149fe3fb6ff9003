"""Vault → Backup keys… (decision 0067 in the app): the epochs listed in this computer's zone with their recorded
backups, a new epoch begun, a retired one destroyed only after the passphrase and a question whose default is No;
the current epoch is never offered; errors are said in the dialog. A real vault, real backups, real widgets."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from ui_keyboard import alt_key_problems
from ui_support import PASSPHRASE, answer_passphrase_dialog, answer_question_with_keys

from app.audit.trail import of_kind, parse_utc
from app.erasure.backup import backup
from app.erasure.backup_keys import KEYS_FILENAME, WRAP_PURPOSE, BackupKeys
from app.scim.server import ScimServer
from app.services.backup_keys import rotate
from app.store.vault import Vault
from app.ui.backup_keys import BackupKeysDialog
from app.ui.lock.reauth import reauthenticate_with
from app.ui.main_window import MainWindow
from app.ui.times import local_minute
from tests.legacy_backup import legacy_backup


def _dialog(qtbot: QtBot, vault: Vault) -> BackupKeysDialog:
    dialog = BackupKeysDialog(vault, reauthenticate_with(vault))  # the real passphrase dialog
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.summary.text().startswith("Reading"), timeout=10_000)
    return dialog


def _cells(dialog: BackupKeysDialog, row: int) -> list[str]:
    return [dialog.table.item(row, column).text() for column in range(dialog.table.columnCount())]


def _two_epochs(vault: Vault, tmp_path: Path) -> None:
    """Two backups under epoch 1, then epoch 2 begun (epoch 1 retired, its backups still open)."""
    backup(vault, tmp_path / "monday.vault")
    backup(vault, tmp_path / "tuesday.vault")
    rotate(vault)


def test_the_epochs_are_listed_in_this_computers_zone_with_their_backups(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    _two_epochs(vault, tmp_path)
    dialog = _dialog(qtbot, vault)
    assert dialog.table.rowCount() == 2
    first, second = BackupKeys(vault.path.parent).epochs()
    with vault.read_connection() as conn:
        last = parse_utc(of_kind(conn, "vault.backup.created", limit=1)[0].at)
    began, retired = local_minute(parse_utc(first.began)), local_minute(parse_utc(first.retired or ""))
    assert _cells(dialog, 0) == ["1", "retired", began, retired, "-", "2", local_minute(last)]
    assert _cells(dialog, 1)[:3] == ["2", "current", local_minute(parse_utc(second.began))]
    assert _cells(dialog, 1)[5:] == ["0", "-"]
    assert "Backups made before key epochs: none recorded." in dialog.summary.text()
    assert "destroying" not in dialog.summary.text()  # nothing before epochs: nothing to warn about
    # The current epoch (selected first) cannot be destroyed; the retired one can.
    assert dialog.selected() is not None and dialog.selected().epoch.n == 2  # type: ignore[union-attr]
    assert not dialog.destroy_button.isEnabled()
    dialog.table.selectRow(0)
    assert dialog.destroy_button.isEnabled()
    assert alt_key_problems(dialog, "Backup keys") == []
    # Tab goes from the list to each button in turn, and on round to the list.
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.table.setFocus()
    seen = []
    for _ in range(4):
        QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        seen.append(dialog.focusWidget())
    assert seen == [dialog.begin_button, dialog.destroy_button, dialog.close_button, dialog.table]


def test_destroying_a_retired_epoch_asks_the_passphrase_then_defaults_to_no(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    _two_epochs(vault, tmp_path)
    dialog = _dialog(qtbot, vault)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.table.setFocus()
    QTest.keyClick(dialog.table, Qt.Key.Key_Up)  # by keyboard, from the current epoch up to epoch 1 (retired)
    assert dialog.selected().epoch.n == 1  # type: ignore[union-attr]
    seal = vault.derived_key(WRAP_PURPOSE)
    keys = BackupKeys(vault.path.parent)

    answer_passphrase_dialog(PASSPHRASE)
    asked = answer_question_with_keys(Qt.Key.Key_Return)  # Enter: the default answer
    QTest.keyClick(dialog.table, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)  # &Destroy epoch…
    qtbot.waitUntil(lambda: bool(dialog.message.text()), timeout=15_000)  # Alt clicks the button a moment later
    assert asked and asked[0].startswith("Destroy backup key epoch 1? The 2 backups recorded under it can never be")
    assert dialog.message.text() == "Nothing destroyed."
    assert set(keys.secrets(seal)) == {1, 2}

    answer_passphrase_dialog(None)  # the passphrase not given: not even the question
    dialog.destroy_selected()
    assert set(keys.secrets(seal)) == {1, 2}

    answer_passphrase_dialog(PASSPHRASE)
    answer_question_with_keys(Qt.Key.Key_Y)
    dialog.destroy_selected()
    qtbot.waitUntil(lambda: "destroyed:" in dialog.message.text(), timeout=10_000)
    assert dialog.message.text() == ("Backup key epoch 1 destroyed: 2 backups made under it can no longer be opened, "
                                     "by anyone; recorded on the audit trail.")  # fmt: skip
    assert set(keys.secrets(seal)) == {2}  # the secret is gone from the file
    qtbot.waitUntil(lambda: _cells(dialog, 0)[1] == "destroyed", timeout=10_000)
    assert _cells(dialog, 0)[4] == local_minute(parse_utc(keys.epochs()[0].destroyed or ""))
    with vault.read_connection() as conn:
        (entry,) = of_kind(conn, "vault.backup_key.destroyed")
    assert entry.details == {"epoch": 1, "backups": 2}
    dialog.table.selectRow(0)
    assert not dialog.destroy_button.isEnabled()  # nothing left to destroy


def test_a_new_epoch_is_begun_and_the_current_one_is_never_destroyed(qtbot: QtBot, vault: Vault) -> None:
    dialog = _dialog(qtbot, vault)
    assert dialog.table.rowCount() == 0
    assert dialog.summary.text().startswith("No backup key epoch yet: the first backup")
    dialog.begin_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=10_000)
    assert dialog.message.text() == "Backup key epoch 1 began; the next backup is made under it."
    dialog.begin_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=10_000)
    assert dialog.message.text().startswith("Backup key epoch 2 began; epoch 1 is retired")
    dialog.table.selectRow(1)
    assert not dialog.destroy_button.isEnabled()
    asked: list[str] = []
    dialog.reauthenticate = lambda _parent, action: bool(asked.append(action))
    dialog.destroy_selected()  # as a stray call would: the current epoch is not offered
    assert asked == [] and [e.state for e in BackupKeys(vault.path.parent).epochs()] == ["retired", "current"]


def test_backups_outside_the_keys_file_are_said_and_errors_stay_in_the_dialog(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    backup(vault, tmp_path / "monday.vault")
    keys_file = vault.path.parent / KEYS_FILENAME
    keys_file.rename(tmp_path / KEYS_FILENAME)  # a data folder without the file the backup needs
    dialog = _dialog(qtbot, vault)
    assert dialog.table.rowCount() == 0
    text = dialog.summary.text()
    assert "No backup key epoch yet" not in text and text.startswith("No backup key epoch is held here.")
    assert f"1 (epoch(s) 1); {KEYS_FILENAME} is not in the data folder" in text

    keys_file.write_text("not the keys file\n")
    dialog.refresh()
    qtbot.waitUntil(lambda: bool(dialog.message.text()), timeout=10_000)
    assert dialog.message.text() == f"The backup keys file {KEYS_FILENAME} is damaged."
    assert dialog.summary.text() == "The backup key epochs could not be listed."
    assert "Traceback" not in dialog.message.text()


def test_the_vault_menu_opens_it_it_fits_at_200_percent_and_the_overview_follows(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot, tmp_path: Path
) -> None:
    window, _server = running
    backup(window.vault, tmp_path / "monday.vault")  # the last backup, under epoch 1
    rotate(window.vault)
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert texts.index("Backup &keys…") == texts.index("&Back up the vault…") + 1
    window.backup_keys_action.trigger()
    qtbot.waitUntil(lambda: bool(window.findChildren(BackupKeysDialog)), timeout=5000)
    (dialog,) = window.findChildren(BackupKeysDialog)
    assert dialog.isVisible() and dialog.vault is window.vault
    at_200 = QSize(960, 540)  # 1920×1080 at 200 %
    for size in (dialog.minimumSizeHint(), dialog.sizeHint()):
        assert size.width() <= at_200.width() and size.height() <= at_200.height(), size.toTuple()
    backups = window.overview_page.fields["backups"]
    qtbot.waitUntil(lambda: backups.text().startswith("last recorded"), timeout=10_000)
    assert "destroyed" not in backups.text()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=10_000)
    dialog.table.selectRow(0)
    dialog.reauthenticate = lambda _parent, _action: True  # the passphrase dialog has its own test above
    asked = answer_question_with_keys(Qt.Key.Key_Y)
    dialog.destroy_button.click()
    qtbot.waitUntil(lambda: "destroyed:" in dialog.message.text(), timeout=10_000)
    assert asked == ["Destroy backup key epoch 1? The 1 backup recorded under it can never be opened again, by "
                     "anyone, wherever its copies are. This cannot be undone."]  # fmt: skip
    # The Overview says that the last backup cannot be opened any more (read again at once, as after a backup).
    qtbot.waitUntil(lambda: "backup key epoch 1 was destroyed" in backups.text(), timeout=10_000)
    window.lock()  # the lock closes it, as every dialog
    qtbot.waitUntil(lambda: not window.findChildren(BackupKeysDialog), timeout=5000)  # closed and deleted
    assert not window.backup_keys_action.isEnabled()


def test_backups_made_before_key_epochs_are_counted_beside_the_epochs(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    """Before: with a backup from before key epochs on the trail as well as one under an epoch, the list could not be
    read at all ("could not be read or changed": the service sorted None among the epoch numbers)."""
    legacy_backup(vault, tmp_path / "old.vault")
    with vault.read_connection() as conn:
        made = parse_utc(of_kind(conn, "vault.backup.created", limit=1)[0].at)
    backup(vault, tmp_path / "new.vault")
    dialog = _dialog(qtbot, vault)
    assert dialog.message.text() == ""
    assert [_cells(dialog, 0)[i] for i in (0, 1, 5)] == ["1", "current", "1"]
    assert (f"Backups made before key epochs: 1 (the last on {local_minute(made)}). They open with the passphrase in "
            "force when they were made; destroying an epoch does not reach them.") in dialog.summary.text()  # fmt: skip
