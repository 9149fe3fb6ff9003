"""Locking: auto-lock after idle time, what the lock hides, closing the vault (503), unlocking, re-authentication
before a new token, and the clipboard hygiene. Real vault, real HTTPS server, real widgets."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, answer_passphrase_dialog, insert_rows, many_users

from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.lock.passphrase import ChangePassphraseDialog
from app.ui.lock.reauth import reauthenticate_with
from app.ui.main_window import MainWindow
from app.ui.tokens import TokensPage


@pytest.fixture
def window(vault: Vault, data_dir: Path, qtbot: QtBot) -> Iterator[tuple[MainWindow, ScimServer, str]]:
    insert_rows(vault, many_users(50))
    _, token = TokenStore(vault).create("idp")
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)
    main = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(main)
    main.show()
    main.server_panel.start()
    qtbot.waitUntil(lambda: server.running, timeout=15_000)
    yield main, server, token
    main.shutdown()
    server.stop()


def status_of(server: ScimServer, token: str, data_dir: Path) -> int:
    verify = ssl.create_default_context(cafile=str(ensure_self_signed(data_dir).cert_path))
    with httpx.Client(base_url=server.base_url, verify=verify, timeout=30) as http:
        return http.get("/Users", headers={"Authorization": f"Bearer {token}"}).status_code


def test_idle_auto_lock_hides_data_while_the_server_runs(
    window: tuple[MainWindow, ScimServer, str], data_dir: Path, qtbot: QtBot
) -> None:
    main, server, token = window
    users = main.identities.users
    qtbot.waitUntil(lambda: users.model.rowCount() == 50)
    users.search.setText("Person 7")
    main.idle.set_timeout(200)
    qtbot.waitUntil(lambda: main.locked, timeout=5000)
    assert users.model.rowCount() == 0 and users.search.text() == "" and users.detail.toPlainText() == ""
    assert main.windowTitle() == "Custos — locked" and not main.lock_action.isEnabled()
    assert status_of(server, token, data_dir) == 200  # UI locked: the endpoint still serves

    main.lock_screen.passphrase.setText("not the passphrase")
    main.lock_screen.unlock()
    qtbot.waitUntil(lambda: "does not unlock" in main.lock_screen.message.text(), timeout=10_000)
    assert main.locked and main.lock_screen.passphrase.text() == ""

    main.lock_screen.passphrase.setText(PASSPHRASE)
    QTest.keyClick(main.lock_screen.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not main.locked, timeout=10_000)
    qtbot.waitUntil(lambda: users.model.rowCount() == 50)
    assert main.idle.active  # counting again


def test_a_search_forgotten_at_the_lock_no_longer_filters_after_the_unlock(
    window: tuple[MainWindow, ScimServer, str], qtbot: QtBot
) -> None:
    """Before: the lock emptied the search box but kept its filter and its note; after the unlock the Users page
    showed an empty box above "Text search: … contains “Person 7”" and 11 of 50 users (seen in a real window).
    Now the lock forgets the search entirely: the note (it may hold a name) and the filter with it."""
    main, _server, _token = window
    users = main.identities.users
    qtbot.waitUntil(lambda: users.model.rowCount() == 50)
    users.search.setText("Person 7")
    users.apply_search()
    qtbot.waitUntil(lambda: 0 < users.model.rowCount() < 50)
    assert "Person 7" in users.search_note.text()

    main.lock()
    assert users.search.text() == "" and users.search_note.text() == ""

    main.lock_screen.passphrase.setText(PASSPHRASE)
    main.lock_screen.unlock()
    qtbot.waitUntil(lambda: not main.locked, timeout=10_000)
    qtbot.waitUntil(lambda: users.model.rowCount() == 50)
    qtbot.waitUntil(lambda: users.count_label.text() == "50 of 50 users")
    assert users.search.text() == "" and users.search_note.text() == ""


def test_closing_the_vault_makes_the_endpoint_answer_503(
    window: tuple[MainWindow, ScimServer, str], data_dir: Path, qtbot: QtBot
) -> None:
    main, server, token = window
    QTest.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert main.locked and not main.vault.is_open
    assert not main.lock_screen.close_button.isVisible()
    assert "vault is closed" in main.lock_screen.note.text()
    assert main.windowTitle() == "Custos — vault closed" and main.lock_screen.title.text() == "The vault is closed"
    assert main.lock_screen.closed_badge.isVisible()
    assert status_of(server, token, data_dir) == 503

    main.lock_screen.passphrase.setText(PASSPHRASE)
    main.lock_screen.unlock()
    qtbot.waitUntil(lambda: not main.locked, timeout=10_000)
    assert main.vault.is_open and status_of(server, token, data_dir) == 200


def test_ctrl_l_locks_from_the_keyboard(window: tuple[MainWindow, ScimServer, str], qtbot: QtBot) -> None:
    main, _server, _token = window
    main.activateWindow()
    QTest.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert main.locked
    assert main.lock_screen.passphrase.hasFocus() or QApplication.focusWidget() is main.lock_screen.passphrase


def test_new_token_needs_the_passphrase_again(vault: Vault, qtbot: QtBot) -> None:
    page = TokensPage(TokenStore(vault), reauthenticate=reauthenticate_with(vault))
    qtbot.addWidget(page)
    page.show()
    page.name.setText("okta")
    answer_passphrase_dialog(None)
    page.create_token()
    assert page.message.text() == "No token created." and TokenStore(vault).list() == []

    page.name.setText("okta")
    answer_passphrase_dialog(PASSPHRASE)
    page.create_token()
    qtbot.waitUntil(lambda: page.secret.text().startswith("cst_"), timeout=10_000)
    assert [t.name for t in TokenStore(vault).list()] == ["okta"]


def test_lock_clears_the_clipboard_only_if_it_holds_our_secret(
    window: tuple[MainWindow, ScimServer, str], qtbot: QtBot
) -> None:
    main, _server, _token = window
    clipboard = QGuiApplication.clipboard()
    main.tokens_page._show_secret("cst_example-secret-for-the-test")
    main.tokens_page.copy_secret.click()
    assert clipboard.text() == "cst_example-secret-for-the-test"
    main.lock()
    assert clipboard.text() == "" and not main.tokens_page.secret.isVisible()
    main.unlock()

    main.tokens_page._show_secret("cst_another")
    main.tokens_page.copy_secret.click()
    clipboard.setText("something the user copied")
    main.lock()
    assert clipboard.text() == "something the user copied"


def test_change_passphrase_rekeys_the_vault(vault: Vault, qtbot: QtBot) -> None:
    from app.ui.lock.passphrase import ChangePassphraseDialog

    dialog = ChangePassphraseDialog(vault)
    qtbot.addWidget(dialog)
    dialog.current.setText("wrong passphrase 1")
    dialog.new.setText("a brand new passphrase")
    dialog.confirmation.setText("a brand new passphrase")
    dialog.change()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=15_000)
    assert "does not unlock" in dialog.message.text()
    assert vault.verify_passphrase(PASSPHRASE)
    dialog.current.setText(PASSPHRASE)
    dialog.new.setText("a brand new passphrase")
    dialog.confirmation.setText("a brand new passphrase")
    dialog.change()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Passphrase changed; recorded on the audit trail."),
                    timeout=30_000)  # fmt: skip
    assert vault.verify_passphrase("a brand new passphrase") and not vault.verify_passphrase(PASSPHRASE)


def test_keyboard_reaches_every_page(window: tuple[MainWindow, ScimServer, str], qtbot: QtBot) -> None:
    main, _server, _token = window
    main.activateWindow()
    assert main.pages.count() <= 9  # Ctrl+1…Ctrl+9
    for index in reversed(range(main.pages.count())):
        QTest.keyClick(main, Qt.Key(Qt.Key.Key_1 + index), Qt.KeyboardModifier.ControlModifier)
        assert main.pages.currentIndex() == index
        focused = QApplication.focusWidget()
        assert focused is not None and main.pages.currentWidget().isAncestorOf(focused)
    QTest.keyClick(main, Qt.Key.Key_F5)  # refresh the current page from the keyboard
    assert main.pages.currentIndex() == 0


def test_help_quit_and_the_bundle_viewer_work_while_locked(
    window: tuple[MainWindow, ScimServer, str], qtbot: QtBot
) -> None:
    """Issue 14 §6: locked, the menu still offers what needs no vault; everything else is off."""
    main, _server, _token = window
    main.lock()
    enabled = {
        action.text().replace("&", "")
        for menu in main.menuBar().actions()
        for action in menu.menu().actions()
        if action.isEnabled() and not action.isSeparator()
    }
    assert {"Quit", "Open an evidence bundle…", "User guide", "Keyboard shortcuts", "About Custos"} <= enabled
    assert not {"Lock", "Settings…", "Export Article 30 records…", "Log", "Change passphrase…"} & enabled
    assert main.lock_screen.title.text() == "Custos is locked" and not main.lock_screen.closed_badge.isVisible()
    main.lock_screen.passphrase.setText(PASSPHRASE)
    main.lock_screen.unlock()
    qtbot.waitUntil(lambda: not main.locked, timeout=10_000)
    assert main.lock_action.isEnabled() and main.settings_action.isEnabled()


def test_the_lock_explanation_is_not_clipped(window: tuple[MainWindow, ScimServer, str], qtbot: QtBot) -> None:
    main, _server, _token = window
    main.resize(640, 480)
    main.lock()
    qtbot.wait(50)
    note = main.lock_screen.note
    assert note.height() >= note.heightForWidth(note.width()) > note.fontMetrics().height()  # every wrapped line


def _changed_in_dialog(qtbot: QtBot, vault: Vault) -> ChangePassphraseDialog:
    """The real dialog, the passphrase changed through it, once it has said so."""
    dialog = ChangePassphraseDialog(vault)
    qtbot.addWidget(dialog)
    return _change_through(qtbot, dialog)


def _change_through(qtbot: QtBot, dialog: ChangePassphraseDialog) -> ChangePassphraseDialog:
    dialog.show()
    dialog.current.setText(PASSPHRASE)
    dialog.new.setText("a brand new passphrase")
    dialog.confirmation.setText("a brand new passphrase")
    dialog.change()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Passphrase changed;"), timeout=30_000)
    return dialog


def test_a_changed_passphrase_is_on_the_record_and_the_dialog_names_older_backups(
    vault: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    """Was: the change left no entry on the trail and the dialog closed on "Passphrase changed.", though a backup
    made before still opened with the old passphrase only. Now the entry is there and the dialog says so, open."""
    from PySide6.QtWidgets import QDialogButtonBox

    from app.audit.trail import of_kind
    from app.services.vault import back_up
    from tests.legacy_backup import legacy_backup

    legacy_backup(vault, tmp_path / "legacy.vault")  # made before key epochs: it keeps its passphrase
    back_up(vault, tmp_path / "before.vault")  # under a key epoch: opens with the new passphrase after the change
    dialog = _changed_in_dialog(qtbot, vault)
    assert "Backups made under backup key epochs open with the new passphrase." in dialog.message.text()
    assert "Backups made before key epochs (the last on " in dialog.message.text()
    assert dialog.isVisible() and not dialog.current.isEnabled()
    assert dialog.buttons.standardButtons() == QDialogButtonBox.StandardButton.Close
    with vault.read_connection() as conn:
        assert [e.details for e in of_kind(conn, "vault.passphrase_changed")] == [{}]


def test_after_a_restore_the_dialog_names_the_backup_restored_from(
    vault: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    """Was: no word of backups when the only one was the backup restored from (its own entry is on the vault it
    was copied from), though after the change it opens with the old passphrase only."""
    from app.services.vault import restore_backup
    from tests.legacy_backup import legacy_backup

    data_dir = vault.path.parent
    legacy_backup(vault, tmp_path / "nightly.vault")  # made before key epochs: it keeps its passphrase
    vault.close()
    restore_backup(data_dir, tmp_path / "nightly.vault", PASSPHRASE, "dana", False)
    restored = Vault.unlock(data_dir, PASSPHRASE)
    try:
        dialog = _changed_in_dialog(qtbot, restored)
        assert "Backups made before (the last known is the one restored from on " in dialog.message.text()
    finally:
        restored.close()


def test_the_dialog_says_before_the_change_what_it_says_after_about_backups_under_key_epochs(
    vault: Vault, qtbot: QtBot, tmp_path: Path
) -> None:
    """Was: before anything was typed the dialog said "Backups made before keep the old passphrase", and after the
    change "Backups made under backup key epochs open with the new passphrase": the first sentence, untrue since key
    epochs (decision 0067), contradicted the second. Now what is said first agrees with what the change does."""
    from app.services.vault import back_up

    back_up(vault, tmp_path / "under-an-epoch.vault")
    dialog = ChangePassphraseDialog(vault)
    qtbot.addWidget(dialog)
    before = dialog.message.text()
    assert "Backups made before keep the old passphrase" not in before
    assert "Backups made under backup key epochs (Vault → Backup keys…) will open with the new passphrase" in before
    assert "a backup made before key epochs keeps the old one" in before
    _change_through(qtbot, dialog)
    assert "Backups made under backup key epochs open with the new passphrase." in dialog.message.text()
