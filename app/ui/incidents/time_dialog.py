"""Recording or correcting any other time of an incident in the app: detection, the occurrence window, when the
processor told the controller, investigation, containment, the communication to the data subjects, and each
notification's time. As in the CLI, a time already recorded is corrected only with a reason; the earlier value
stays in the history. (Awareness has its own dialog: it anchors the deadline.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from app.services.incidents import EDITABLE_TIMES, LABELS, SKEW, IncidentView, utc_text
from app.ui.incidents.fields import prompt_box, qt_now, show_problem, time_problem
from app.ui.incidents.refusals import Here, plain
from app.ui.policy.common import plain_label
from app.ui.widgets import error_label


@dataclass(frozen=True)
class TimeChange:
    name: str  # a time of the incident row, or "notified"
    at: datetime
    reason: str
    notification: int | None = None  # the notification's number, when name is "notified"


WHICH, AT = "&Time", "&At (local time)"  # the time chosen, and its value: what a refusal names


def _qt(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


class TimeDialog(QDialog):
    def __init__(self, view: IncidentView, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Incident {view.id}: record or correct a time")
        self.now = now
        # (label, name, notification number, value recorded now)
        self.choices: list[tuple[str, str, int | None, datetime | None]] = [
            (LABELS[name], name, None, view.fields[name]) for name in (*EDITABLE_TIMES, "subjects_informed_at")
        ]
        self.choices += [(f"Notification {n.number} ({n.kind}, {n.reference})", "notified", n.number, n.at)
                         for n in view.notifications]  # fmt: skip
        self.which = QComboBox()
        self.which.addItems([label for label, *_ in self.choices])
        self.state = plain_label(wrap=True)
        self.when = QDateTimeEdit(qt_now(now))
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm t")
        self.when.setCalendarPopup(True)
        self.when.setMaximumDateTime(_qt(now + SKEW))  # never in the future; the register checks it again
        self.view = view
        self.time_problem = error_label()  # under the time: why OK is disabled, while it is
        self.time_problem.setWordWrap(True)
        self.reason = prompt_box()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(WHICH, self.which)
        form.addRow("", self.state)
        form.addRow(AT, self.when)
        form.addRow("", self.time_problem)
        form.addRow("&Reason", self.reason)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.which.currentIndexChanged.connect(self._chosen)
        self.reason.textChanged.connect(self._enable)
        self.when.dateTimeChanged.connect(self._enable)
        self._chosen()

    def _current(self) -> datetime | None:
        return self.choices[self.which.currentIndex()][3]

    def _chosen(self) -> None:
        current = self._current()
        if current is None:
            self.state.setText("Not recorded yet. A reason is optional.")
        else:
            self.state.setText(f"Recorded: {utc_text(current)}. A correction needs its reason; the earlier "
                               "value stays in the history and goes on the audit trail with the new one.")  # fmt: skip
            self.when.setDateTime(_qt(current))
        self._enable()

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.when.dateTime().toSecsSinceEpoch(), UTC)

    def _enable(self) -> None:
        current = self._current()
        correcting = current is not None
        ok = not correcting or (self.moment() != current and bool(self.reason.toPlainText().strip()))
        name = self.choices[self.which.currentIndex()][1]
        # The register's own check of the times together (awareness before detection, containment before
        # occurrence…); a notification's time is checked where it is recorded.
        listed = frozenset(n for _label, n, _number, _at in self.choices)  # chosen under "Time"; awareness is not
        here = Here({name: plain(AT)}, chooser=plain(WHICH), listed=listed)
        problem = "" if name == "notified" else time_problem(self.view, {name: self.moment()}, here)
        show_problem(self.time_problem, self.when, problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok and not problem)

    def accept(self) -> None:
        if self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():  # Enter presses a disabled OK too
            super().accept()

    def value(self) -> TimeChange:
        _label, name, number, _current = self.choices[self.which.currentIndex()]
        return TimeChange(name, self.moment(), self.reason.toPlainText().strip(), number)


def ask_time(parent: QWidget, view: IncidentView, now: datetime) -> TimeChange | None:
    dialog = TimeDialog(view, now, parent)
    return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None
