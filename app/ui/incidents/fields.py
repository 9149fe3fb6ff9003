"""Widgets the incident dialogs share: a prompt box that Tab leaves, a time in local time that cannot be in the
future, and a dialog frame whose OK is enabled only when what it asks is given."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QSize, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.incidents import SKEW, IncidentError, IncidentView, checked_times
from app.ui.incidents.refusals import Here, refusal_words
from app.ui.policy.common import plain_label
from app.ui.widgets import fit_height


class PromptBox(QPlainTextEdit):
    """A few lines high by default (a dialog with four of them still fits a 960×540 screen at 200 %); it grows
    with the dialog."""

    def sizeHint(self) -> QSize:
        return QSize(320, 4 * self.fontMetrics().lineSpacing())


def prompt_box(placeholder: str = "", text: str = "") -> QPlainTextEdit:
    """A multi-line answer; Tab moves to the next field (a tab character is never what a DPO means here)."""
    box = PromptBox(text)
    box.setTabChangesFocus(True)
    box.setPlaceholderText(placeholder)
    box.setMinimumHeight(2 * box.fontMetrics().lineSpacing() + 12)
    return box


def qt_time(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))  # shown in local time


def qt_now(now: datetime) -> QDateTime:
    """``now`` as the edits hold it (whole seconds), rounded up, for a time that follows the detection (awareness,
    a correction): rounded down, an incident detected earlier within the same second came out detected after the
    default awareness, and the register refused it."""
    return QDateTime.fromSecsSinceEpoch(math.ceil(now.timestamp()))


def time_edit(now: datetime, initial: datetime | None = None) -> QDateTimeEdit:
    edit = QDateTimeEdit(qt_time(initial or now))  # rounded down: a detection is never after what follows it
    edit.setDisplayFormat("yyyy-MM-dd HH:mm t")
    edit.setCalendarPopup(True)
    edit.setMaximumDateTime(qt_time(now + SKEW))  # never in the future; the register checks it again
    return edit


def moment_of(edit: QDateTimeEdit) -> datetime:
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)


def text_of(box: QPlainTextEdit) -> str:
    return box.toPlainText().strip()


def show_problem(label: QLabel, field: QWidget, problem: str) -> None:
    """``problem`` (or nothing) under ``field``: why OK is disabled, said where the answer is typed."""
    if problem == label.text():
        return
    label.setText(problem)
    label.setVisible(bool(problem))
    field.setAccessibleDescription(problem)
    dialog = label.window()
    if isinstance(dialog, QDialog):
        fit_height(dialog)


def time_problem(view: IncidentView, values: dict[str, object], here: Here) -> str:
    """Why the register would refuse these times on this incident ("" when it would record them): its own check
    (``checked_times``), asked before the dialog closes, and said with the labels of the dialog (``here``)."""
    try:
        checked_times(view, values)
    except IncidentError as refused:
        return refusal_words(refused, refused.user_message, here)
    return ""


class StepDialog(QDialog):
    """An explanation, a form, OK/Cancel; subclasses say when OK may be pressed (``ready``) and call ``_check``
    whenever an answer changes."""

    def __init__(self, title: str, explanation: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.explanation = plain_label(explanation, wrap=True)
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def ready(self) -> bool:
        return True

    def fit_height(self) -> None:
        fit_height(self)

    def _check(self, *_args: object) -> None:
        self.ok_button.setEnabled(self.ready())

    def showEvent(self, event: QShowEvent) -> None:
        """The first question has the keyboard, not a button (a space typed would press it)."""
        super().showEvent(event)
        for row in range(self.form.rowCount()):
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole,
                         QFormLayout.ItemRole.SpanningRole):  # fmt: skip
                item = self.form.itemAt(row, role)
                widget = item.widget() if item is not None else None
                if widget is not None and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
                    widget.setFocus()
                    return

    def accept(self) -> None:
        if self.ready():  # Enter in a line edit presses the default button even while it is disabled
            super().accept()
