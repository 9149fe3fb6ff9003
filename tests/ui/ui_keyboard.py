"""Driving real dialogs by keyboard only, for the tests of the workflows: type, press keys, Tab to OK."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

Step = Callable[[QtBot, QDialog], None]


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    return widget


def typed(text: str) -> Step:
    return lambda qtbot, _dialog: qtbot.keyClicks(focused(), text)


def key(which: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> Step:
    def press(qtbot: QtBot, _dialog: QDialog) -> None:
        qtbot.keyClick(focused(), which, modifier)
        if modifier == Qt.KeyboardModifier.AltModifier:
            qtbot.wait(150)  # a mnemonic "animates" its click: the button is pressed for 100 ms

    return press


TAB = key(Qt.Key.Key_Tab)


def out_of_the_box(_qtbot: QtBot, _dialog: QDialog) -> None:
    assert not isinstance(QApplication.focusWidget(), QPlainTextEdit)  # Tab moved on instead of typing a tab


def accept_button(dialog: QDialog) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    found = [b for b in box.buttons() if box.buttonRole(b) == QDialogButtonBox.ButtonRole.AcceptRole]
    assert len(found) == 1
    return found[0]


def press_ok(qtbot: QtBot, dialog: QDialog) -> None:
    """Tab to OK (or Save) and press Space, as a keyboard user does (Enter in a prompt box is a new line)."""
    ok = accept_button(dialog)
    for _ in range(40):
        if QApplication.focusWidget() is ok:
            break
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is ok
    assert ok.isEnabled()
    qtbot.keyClick(ok, Qt.Key.Key_Space)


def by_keyboard(qtbot: QtBot, *steps: Step, submit: bool = True) -> Callable[[QDialog], bool]:
    """A stand-in for exec(): the real dialog, shown, driven by keys only."""

    def run(dialog: QDialog) -> bool:
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.activateWindow()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not None and dialog.isAncestorOf(
            QApplication.focusWidget()), timeout=2000)  # fmt: skip
        for step in steps:
            step(qtbot, dialog)
        if submit:
            press_ok(qtbot, dialog)
        return dialog.result() == QDialog.DialogCode.Accepted

    return run


def mnemonics(window: QWidget) -> list[str]:
    """The Alt letters of a window's labels and buttons (a letter twice only moves the focus between them)."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    texts = [w.text() for w in window.findChildren(QLabel) + window.findChildren(QAbstractButton)]
    return [text[text.index("&") + 1].lower() for text in texts if "&" in text.replace("&&", "")]


def alt_key_problems(root: QWidget, name: str) -> list[str]:
    """What a keyboard user would trip on in ``root``: a label's Alt key with no field to go to (no buddy, or a
    buddy that takes no focus itself: a focus proxy does not count), or a letter used twice among what is shown
    (pressed, it only moves the focus between the two)."""
    from collections import Counter

    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel

    found = []
    for label in root.findChildren(QLabel):
        if "&" in label.text().replace("&&", "") and label.textFormat() != Qt.TextFormat.RichText:
            buddy = label.buddy()
            if buddy is None or buddy.focusPolicy() == Qt.FocusPolicy.NoFocus:
                found.append(f"{name}: {label.text()!r} reaches no field")
    shown = [w for w in root.findChildren(QLabel) + root.findChildren(QAbstractButton) + root.findChildren(QGroupBox)
             if w.isVisibleTo(root)]  # fmt: skip
    texts = [w.title() if isinstance(w, QGroupBox) else w.text() for w in shown]
    letters = [(text[text.index("&") + 1].lower(), text) for text in texts if "&" in text.replace("&&", "")]
    for letter, times in Counter(letter for letter, _ in letters).items():
        if times > 1:
            found.append(f"{name}: Alt+{letter} on {[text for each, text in letters if each == letter]}")
    return found
