"""The unlock dialog: readable errors, KDF off the GUI thread. Creating the vault is the first-run assistant's
(test_ui_first_run.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialogButtonBox, QLabel, QLineEdit, QWidget
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


# -- the keyboard (issue 14 §1) --------------------------------------------------------------------------------
def _shown(qtbot: QtBot, data_dir: Path) -> UnlockDialog:
    dialog = _dialog(qtbot, data_dir)
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def test_enter_in_the_field_unlocks_and_never_cancels(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _shown(qtbot, data_dir)
    assert dialog.passphrase.hasFocus()
    rejected: list[bool] = []
    dialog.rejected.connect(lambda: rejected.append(True))
    qtbot.keyClicks(dialog.passphrase, PASSPHRASE)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert not rejected
    assert dialog.vault is not None and dialog.vault.is_open
    dialog.vault.close()


def test_enter_with_a_wrong_passphrase_says_so_and_stays(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _shown(qtbot, data_dir)
    rejected: list[bool] = []
    dialog.rejected.connect(lambda: rejected.append(True))
    qtbot.keyClicks(dialog.passphrase, "not the passphrase")
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Enter)  # the keypad's Enter too
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    assert "does not unlock" in dialog.error.text()
    assert dialog.isVisible() and not rejected and dialog.passphrase.hasFocus()


def test_cancel_is_not_the_default_button(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _shown(qtbot, data_dir)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert dialog.submit_button.isDefault() and not cancel.isDefault() and not cancel.autoDefault()


def test_escape_still_cancels(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _shown(qtbot, data_dir)
    with qtbot.waitSignal(dialog.rejected, timeout=2_000):
        qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Escape)


def test_ctrl_h_shows_and_hides_the_passphrase(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _shown(qtbot, data_dir)
    qtbot.keyClicks(dialog.passphrase, "secret")
    assert dialog.passphrase.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert dialog.passphrase.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.passphrase_row.show_button.text() == "Hide"
    assert dialog.passphrase.text() == "secret"  # the shortcut typed nothing
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert dialog.passphrase.echoMode() == QLineEdit.EchoMode.Password


def _type(field: QLineEdit, key: Qt.Key, text: str, shift: bool = False) -> None:
    """A key as the platform delivers it: with Caps Lock on, 'a' comes as Key_A with the text "A" and no Shift."""
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(field, QKeyEvent(kind, key, modifiers, text))


def test_caps_lock_warning_follows_what_is_typed(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    dialog = _shown(qtbot, data_dir)
    caps = dialog.passphrase_row.caps
    _type(dialog.passphrase, Qt.Key.Key_1, "1")
    assert not caps.isVisible()  # a digit says nothing about Caps Lock
    _type(dialog.passphrase, Qt.Key.Key_A, "A")  # upper case without Shift
    assert caps.isVisible() and "Caps Lock" in caps.text()
    _type(dialog.passphrase, Qt.Key.Key_B, "b", shift=True)  # Shift with Caps Lock gives lower case: still on
    assert caps.isVisible()
    _type(dialog.passphrase, Qt.Key.Key_CapsLock, "")  # switched off
    assert not caps.isVisible()
    _type(dialog.passphrase, Qt.Key.Key_C, "C", shift=True)  # an ordinary capital
    assert not caps.isVisible()
    assert dialog.passphrase.text() == "1AbC"


# -- small screens ----------------------------------------------------------------------------------------------
def _cut(dialog: UnlockDialog) -> list[str]:
    """The visible labels, boxes and buttons drawn narrower than their text needs, or outside the dialog."""
    cut = []
    for widget in dialog.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(widget, QLabel | QAbstractButton):
            continue
        inside = QRect(widget.mapTo(dialog, QPoint(0, 0)), widget.size())
        if not dialog.rect().contains(inside) or widget.width() < widget.minimumSizeHint().width():
            cut.append(widget.text())
    return cut


def test_at_640_px_the_keyring_box_is_whole(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    """Before: the box's one long label was cut ("…(unlock without typin"): Qt opens a dialog at most two thirds of
    the screen wide, 426 px at 640, and the fixed 420 px minimum hid the layout's own, wider one."""
    dialog = _dialog(qtbot, data_dir)
    assert dialog.minimumSize().width() <= 640 * 2 // 3
    dialog.resize(640 * 2 // 3, dialog.height())
    qtbot.wait(10)
    assert dialog.remember.width() >= dialog.remember.sizeHint().width()
    assert _cut(dialog) == []
