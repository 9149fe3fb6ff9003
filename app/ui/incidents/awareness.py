"""Recording when the controller became aware: a real time (not only "now") and the reasoning; again, a correction.

A correction never replaces the earlier time: the register keeps both, the trail gets both, and the deadline keeps
running from the earliest awareness recorded. The dialog says so before the operator confirms.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from app.services.incidents import SKEW, IncidentView, utc_text
from app.ui.incidents.fields import prompt_box, qt_now, show_problem, time_problem
from app.ui.incidents.refusals import Here, plain
from app.ui.policy.common import plain_label
from app.ui.widgets import error_label

AT = "Aware &at (local time)"


def _qt(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))  # shown in local time


class AwarenessDialog(QDialog):
    def __init__(self, view: IncidentView, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.correcting = view.aware_at is not None
        self.recorded = view.aware_at
        self.setWindowTitle("Correct the awareness time" if self.correcting else "Controller aware")
        if view.aware_at is not None:  # correcting
            earliest = view.aware_anchor or view.aware_at  # the anchor: the earliest awareness recorded
            text = (f"Awareness is recorded at {utc_text(view.aware_at)}. A correction is kept next to the "
                    "earlier value and goes on the audit trail with both times; the 72-hour deadline keeps running "
                    f"from the earliest awareness recorded, {utc_text(earliest)}. Give the corrected "
                    "time and why it is corrected.")  # fmt: skip
        else:
            text = ("When did the controller become reasonably certain that a breach occurred (EDPB 9/2022)? This "
                    "starts the 72-hour clock. Give the time and the reasoning.")  # fmt: skip
        self.explanation = plain_label(text, wrap=True)
        self.when = QDateTimeEdit(_qt(view.aware_at) if self.correcting and view.aware_at else qt_now(now))
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm t")
        self.when.setCalendarPopup(True)
        self.when.setMaximumDateTime(_qt(now + SKEW))  # never in the future; the register checks it again
        self.view = view
        self.time_problem = error_label()  # under the time: why OK is disabled, while it is
        self.time_problem.setWordWrap(True)
        self.reason = prompt_box()
        hint = "Why the time is corrected" if self.correcting else "Why the controller is aware"
        self.reason.setPlaceholderText(hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(AT, self.when)
        form.addRow("", self.time_problem)
        form.addRow("Correction &reason" if self.correcting else "&Reasoning", self.reason)  # Alt+R: Tab walks the time
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._enable)
        self.when.dateTimeChanged.connect(self._enable)
        self._enable()

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.when.dateTime().toSecsSinceEpoch(), UTC)

    def _enable(self) -> None:
        changed = not self.correcting or self.moment() != self.recorded
        here = Here({"aware_at": plain(AT)})
        problem = time_problem(self.view, {"aware_at": self.moment()}, here)  # e.g. before the detection
        show_problem(self.time_problem, self.when, problem)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.reason.toPlainText().strip()) and changed and not problem)

    def accept(self) -> None:
        if self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():  # Enter presses a disabled OK too
            super().accept()

    def value(self) -> tuple[datetime, str]:
        return self.moment(), self.reason.toPlainText().strip()


def ask_awareness(parent: QWidget, view: IncidentView, now: datetime) -> tuple[datetime, str] | None:
    dialog = AwarenessDialog(view, now, parent)
    return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None
