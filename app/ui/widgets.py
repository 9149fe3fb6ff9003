"""Small widgets the dialogs share: plain-text labels, secret fields, file pickers, values with a Copy button."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QWidget

from app.ui.lock.clipboard import secret_clipboard
from app.ui.theme import tint


def documents_dir() -> str:
    """Where file dialogs start: the user's Documents folder (as the platform names it), else the home folder.

    Never the working directory: started from a launcher or a frozen build, that is the program's own folder."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return documents if documents and Path(documents).is_dir() else str(Path.home())


def resize_within_screen(window: QWidget, width: int, height: int) -> None:
    """Open ``window`` at width × height, or smaller where its screen is smaller: the dialogs asked for up to
    1100×760, so on a 640×480 screen their buttons were beyond its edges. Their layouts still set the minimum."""
    room = window.screen().availableGeometry()
    window.resize(min(width, room.width()), min(height, room.height()))


def fit_height(dialog: QDialog) -> None:
    """Grow (never shrink) to the height the form needs at the present width: a message shown under a field
    after the dialog opened was cut to the lines that fitted."""
    layout = dialog.layout()
    if layout is None or not dialog.isVisible():
        return
    layout.activate()
    width = dialog.width()
    needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
    room = dialog.screen().availableGeometry().height()  # a 640×480 screen: never beyond its edge
    if needed > dialog.height():
        dialog.resize(width, min(needed, max(room, dialog.height())))


def ask_yes_no(parent: QWidget, title: str, question: str) -> bool:
    """A Yes/No question whose default (Enter, Escape) is No: the safe answer is the easy one."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, QMessageBox.StandardButton.Yes, parent)
    no = box.addButton(QMessageBox.StandardButton.No)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    return box.exec() == QMessageBox.StandardButton.Yes


def selectable_label(text: str = "") -> QLabel:
    """Plain text (never rich text: values come from the vault and the network) that can be selected and copied."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def clipboard_button(source: Callable[[], str]) -> QPushButton:
    """Copies through SecretClipboard: cleared after the chosen delay, and on lock, if the clipboard still holds it."""
    button = QPushButton("Copy")
    button.clicked.connect(lambda: secret_clipboard().copy(source()))
    return button


def text_label(text: str = "", selectable: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class FittedLabel(QLabel):
    """Wrapped plain text whose minimum height is what its lines need at its width. A layout counts a wrapped label
    at the height of a guessed width, so in a narrow window the extra lines were taken from the widgets below it
    (the Policy page's Version history buttons were drawn over its table at 640 px)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), max(hint.height(), self.heightForWidth(self.width())))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # another width, another number of lines

    def setText(self, text: str) -> None:
        super().setText(text)
        self.updateGeometry()


class MessageLabel(QLabel):
    """A one-off message (plain text, wrapped) that takes no room while it is empty: an empty label's row cost a
    table row at 200 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)
        self.hide()

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        super().clear()
        self.hide()


def error_label() -> QLabel:
    label = text_label()
    label.setObjectName("error")
    tint(label, "error")
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.hide()
    return label


def secret_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)  # no IME history of the passphrase
    return field


class FileField(QWidget):
    """A path field with a Browse… button; the field stays editable so a path can be typed or pasted."""

    def __init__(self, caption: str, name_filter: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption, self.name_filter = caption, name_filter
        self.path = QLineEdit()
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.path, 1)
        layout.addWidget(self.browse)
        self.setFocusProxy(self.path)

    def _choose(self) -> None:
        start = self.path.text() or documents_dir()
        chosen, _filter = QFileDialog.getOpenFileName(self, self.caption, start, self.name_filter)
        if chosen:
            self.path.setText(chosen)


class CopyRow(QWidget):
    """A read-only value with a Copy button; copies go through the secret clipboard (cleared later, and on lock)."""

    copied = Signal()

    def __init__(self, button_text: str = "Copy", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = QLineEdit()
        self.value.setReadOnly(True)
        self.copy = QPushButton(button_text)
        self.copy.clicked.connect(self._copy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.value, 1)
        layout.addWidget(self.copy)

    def set_text(self, text: str) -> None:
        self.value.setText(text)
        self.value.setCursorPosition(0)

    def _copy(self) -> None:
        secret_clipboard().copy(self.value.text())
        self.copied.emit()
