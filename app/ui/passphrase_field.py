"""A passphrase field as KeePassXC has it: show/hide, a Caps Lock warning, and (for a new one) a strength meter.

Caps Lock: Qt has no portable way to read the lock state (QGuiApplication::queryKeyboardModifiers does not
include it on any platform), so it is inferred from what is typed: a letter that comes out upper-case without
Shift, or lower-case with Shift, means Caps Lock is on; the opposite means off; the Caps Lock key itself flips a
known state. The warning therefore appears with the first letter typed, not before; with an input method or a
layout without case (e.g. Greek symbols, CJK) it stays silent rather than guess.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.passphrase_strength import estimate
from app.store.vault import keyring_available
from app.ui.theme import tint
from app.ui.widgets import text_label

CAPS_LOCK_WARNING = "Caps Lock is on."
REVEAL_SHORTCUT = "Ctrl+H"


def remember_key_box() -> tuple[QCheckBox, QLabel]:
    """The offer to remember the vault key in the system keyring, and its note. A check box's text does not wrap:
    the long label "… (unlock without typing)" was cut at 640 px, so the box has a short one and the note wraps.
    Without a keyring the box is disabled and the note says so: ticked, it only wrote a warning to the log."""
    box = QCheckBox("&Remember the key in the system keyring")
    box.setToolTip(
        "Stores the derived vault key, never the passphrase, in the operating system's keyring. "
        "Anyone who can use your session can then open the vault."
    )
    note = text_label("Next time the vault opens without typing the passphrase.")
    if not keyring_available():
        box.setEnabled(False)
        note.setText("No system keyring that protects secrets is available here: the passphrase is asked each time.")
    return box, note


def caps_lock_from(event: QKeyEvent) -> bool | None:
    """True/False when the key event tells the Caps Lock state, None when it cannot (not a cased letter)."""
    text = event.text()
    if len(text) != 1 or not text.isalpha() or text.lower() == text.upper():
        return None
    shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
    return text.isupper() != shift


class PassphraseEdit(QLineEdit):
    """A password-mode line edit that reports the Caps Lock state it can infer from typed letters."""

    caps_lock_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)  # no IME history of the passphrase
        self.caps_lock: bool | None = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_CapsLock and self.caps_lock is not None:
            self._set_caps_lock(not self.caps_lock)
        else:
            seen = caps_lock_from(event)
            if seen is not None:
                self._set_caps_lock(seen)
        super().keyPressEvent(event)

    def _set_caps_lock(self, on: bool) -> None:
        if on != self.caps_lock:
            self.caps_lock = on
            self.caps_lock_changed.emit(on)


class PassphraseRow(QWidget):
    """The field, a Show/Hide toggle (Ctrl+H in the field), the Caps Lock warning, and with
    ``meter`` a strength bar with its verdict. ``edit`` is the QLineEdit callers read."""

    def __init__(self, meter: bool = False, accessible_name: str = "Passphrase", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = PassphraseEdit()
        self.edit.setAccessibleName(accessible_name)
        self.show_button = QPushButton("Show")
        self.show_button.setCheckable(True)
        self.show_button.setAutoDefault(False)  # Enter in the field must press the dialog's default, never this
        self.show_button.setToolTip(f"Show or hide the passphrase as you type it ({REVEAL_SHORTCUT})")
        self.show_button.toggled.connect(self._reveal)
        # Out of the Tab chain (Tab goes from the passphrase to its repetition, as everywhere); the keyboard has
        # Ctrl+H while the field has the focus, as in KeePassXC.
        self.show_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.toggle_action = QAction("Show or hide the passphrase", self)
        self.toggle_action.setShortcut(QKeySequence(REVEAL_SHORTCUT))
        self.toggle_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.toggle_action.triggered.connect(self.show_button.toggle)
        self.addAction(self.toggle_action)
        self.caps = text_label(CAPS_LOCK_WARNING)
        self.caps.setObjectName("capsLock")
        tint(self.caps, "error")
        self.caps.hide()
        self.edit.caps_lock_changed.connect(self.caps.setVisible)
        self.meter: QProgressBar | None = None
        self.verdict = text_label()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        if meter:
            self.meter = QProgressBar()
            self.meter.setRange(0, 100)
            self.meter.setTextVisible(False)
            self.meter.setMaximumHeight(self.fontMetrics().height() // 2 + 2)
            self.meter.setAccessibleName("Passphrase strength")
            layout.addWidget(self.meter)
            layout.addWidget(self.verdict)
            self.edit.textChanged.connect(self._rate)
            self._rate("")
        layout.addWidget(self.caps)
        self.setFocusProxy(self.edit)

    def _reveal(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_button.setText("Hide" if shown else "Show")

    def _rate(self, text: str) -> None:
        assert self.meter is not None
        strength = estimate(text)
        self.meter.setValue(strength.percent)
        described = f"{strength.level} (about {strength.bits:.0f} bits)" if text else "—"
        self.verdict.setText(f"Estimated strength: {described}")
        self.meter.setAccessibleDescription(self.verdict.text())

    def hide_text(self) -> None:
        """Back to dots (after a lock, a failed attempt or when the dialog closes)."""
        self.show_button.setChecked(False)
