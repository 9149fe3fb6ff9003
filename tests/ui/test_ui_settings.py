"""Per-user settings (QSettings, never a secret) and the Settings dialog: saved on OK, put in force in the main
window, appearance previewed live and put back on Cancel, the remembered key forgotten on request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot
from ui_support import MemoryKeyring

from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tokens import TokenStore
from app.store.vault import Vault, key_from_keyring
from app.ui import settings
from app.ui.lock.clipboard import CLEAR_AFTER_MS, secret_clipboard
from app.ui.main_window import MainWindow, preferences_shortcuts
from app.ui.settings_dialog import SettingsDialog
from app.ui.theme import apply_appearance, current_appearance, is_dark


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """Appearance and the shared clipboard's delay are process-wide: put back as they were."""
    palette, choice = QApplication.palette(), current_appearance(qapp)
    yield qapp
    apply_appearance(qapp, choice)
    qapp.setPalette(palette)
    secret_clipboard().set_clear_after_ms(CLEAR_AFTER_MS)


@pytest.fixture
def window(vault: Vault, app: QApplication, qtbot: QtBot) -> Iterator[MainWindow]:
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=None, bus=bus, tokens=tokens)  # never started: not needed here
    main = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.shutdown()


def open_settings(main: MainWindow) -> SettingsDialog:
    main.settings_action.trigger()
    dialog = main.settings_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_defaults_round_trip_and_bad_values(_private_settings: Path) -> None:
    assert settings.autolock_minutes() == settings.DEFAULT_AUTOLOCK_MINUTES
    assert settings.appearance() == "system"
    assert settings.lock_on_screen_lock() is True
    assert settings.clipboard_clear_seconds() == 30
    settings.set_autolock_minutes(12)
    settings.set_appearance("dark")
    settings.set_lock_on_screen_lock(False)
    settings.set_clipboard_clear_seconds(45)
    assert (settings.autolock_minutes(), settings.appearance()) == (12, "dark")
    assert (settings.lock_on_screen_lock(), settings.clipboard_clear_seconds()) == (False, 45)
    store = QSettings("Custos", "Custos")
    store.setValue("security/autolock_minutes", "soon")
    store.setValue("appearance/theme", "neon")
    store.setValue("security/clipboard_clear_seconds", 1)
    store.sync()
    assert settings.autolock_minutes() == settings.DEFAULT_AUTOLOCK_MINUTES
    assert settings.appearance() == "system"
    assert settings.clipboard_clear_seconds() == settings.MIN_CLIPBOARD_CLEAR_SECONDS
    # Written in this test's own folder, never the developer's settings.
    assert Path(store.fileName()).is_relative_to(_private_settings)


def test_settings_do_not_leak_between_tests() -> None:
    assert settings.autolock_minutes() == settings.DEFAULT_AUTOLOCK_MINUTES  # the test above set 12
    assert settings.appearance() == "system"


def test_settings_action_replaces_auto_lock(window: MainWindow) -> None:
    texts = [action.text() for menu in window.menuBar().actions() for action in menu.menu().actions()]
    assert "&Settings…" in texts and not [text for text in texts if "Auto-lock" in text]
    assert window.settings_action.shortcuts() == preferences_shortcuts()
    assert preferences_shortcuts()  # the platform's key, or Ctrl+,
    assert not hasattr(window, "choose_autolock")


def test_ok_saves_and_puts_the_settings_in_force(window: MainWindow, qtbot: QtBot) -> None:
    assert window.idle._timer.interval() == settings.DEFAULT_AUTOLOCK_MINUTES * 60_000  # read at start-up
    assert window.screen_lock.enabled and secret_clipboard().clear_after_ms == 30_000
    dialog = open_settings(window)
    assert dialog.autolock.value() == settings.DEFAULT_AUTOLOCK_MINUTES and dialog.screen_lock.isChecked()
    dialog.autolock.setValue(7)
    dialog.screen_lock.setChecked(False)
    dialog.clipboard.setValue(12)
    dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
    assert is_dark(QGuiApplication.palette())  # previewed at once
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert settings.autolock_minutes() == 7 and settings.appearance() == "dark"
    assert settings.lock_on_screen_lock() is False and settings.clipboard_clear_seconds() == 12
    assert window.idle._timer.interval() == 7 * 60_000 and window.idle.active
    assert not window.screen_lock.enabled
    assert secret_clipboard().clear_after_ms == 12_000
    assert is_dark(QGuiApplication.palette())
    stored = QSettings("Custos", "Custos")
    assert sorted(stored.allKeys()) == [  # these, and never a secret
        "appearance/theme",
        "notifications/enabled",
        "security/autolock_minutes",
        "security/clipboard_clear_seconds",
        "security/lock_on_screen_lock",
    ]

    window.screen_lock.active_changed(True)  # the desktop locks: with the setting off, Custos stays open
    assert not window.locked


def test_zero_minutes_turns_auto_lock_off(window: MainWindow) -> None:
    dialog = open_settings(window)
    dialog.autolock.setValue(0)
    assert dialog.autolock.text() == "never"
    dialog.accept()
    assert settings.autolock_minutes() == 0 and not window.idle.active


def test_cancel_puts_the_appearance_back_and_saves_nothing(window: MainWindow, app: QApplication) -> None:
    apply_appearance(app, "light")
    dialog = open_settings(window)
    dialog.autolock.setValue(9)
    dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
    assert is_dark(QGuiApplication.palette())
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not is_dark(QGuiApplication.palette()) and current_appearance(app) == "light"
    assert settings.autolock_minutes() == settings.DEFAULT_AUTOLOCK_MINUTES
    assert settings.appearance() == "system"


def test_locking_closes_the_dialog_like_cancel(window: MainWindow, app: QApplication) -> None:
    apply_appearance(app, "light")
    dialog = open_settings(window)
    dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
    window.lock()
    assert window.locked and not dialog.isVisible()
    assert not is_dark(QGuiApplication.palette()) and settings.appearance() == "system"


def test_every_field_has_a_label_with_a_mnemonic(window: MainWindow, qtbot: QtBot) -> None:
    dialog = open_settings(window)
    buddies = {label.buddy(): label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None}
    assert set(buddies) == {dialog.autolock, dialog.clipboard, dialog.appearance}
    assert all("&" in text for text in buddies.values())
    assert "&" in dialog.screen_lock.text() and "&" in dialog.forget_button.text()
    mnemonics = [text[text.index("&") + 1].lower() for text in [*buddies.values(), dialog.screen_lock.text()]]
    assert len(set(mnemonics)) == len(mnemonics)  # no two fields share a key
    assert QKeySequence.mnemonic(buddies[dialog.appearance]) == QKeySequence("Alt+P")


def test_forget_the_remembered_key(
    window: MainWindow, data_dir: Path, memory_keyring: MemoryKeyring, qtbot: QtBot
) -> None:
    dialog = open_settings(window)
    assert not dialog.forget_button.isVisibleTo(dialog)  # nothing remembered: nothing to forget
    dialog.reject()

    assert window.vault.remember_in_keyring()
    assert key_from_keyring(data_dir) is not None
    dialog = open_settings(window)
    assert dialog.forget_button.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.forget_button, Qt.MouseButton.LeftButton)
    assert key_from_keyring(data_dir) is None and not memory_keyring.items
    assert not dialog.forget_button.isVisibleTo(dialog) and "removed" in dialog.keyring_note.text()


def test_alt_keys_reach_the_fields(window: MainWindow, qtbot: QtBot) -> None:
    dialog = open_settings(window)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    fields = ((Qt.Key.Key_P, dialog.appearance), (Qt.Key.Key_C, dialog.clipboard), (Qt.Key.Key_A, dialog.autolock))
    for key, field in fields:
        QTest.keyClick(QApplication.focusWidget(), key, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda f=field: f.hasFocus())
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not dialog.screen_lock.isChecked())  # a mnemonic on a check box toggles it
