"""The breach register in the app: every incident with its state and live countdown, one incident's timeline and
the history of every time recorded (corrections never replace), recording awareness (a person's decision, at a
real time, with the reasoning; again, a correction with its reason), the Art. 33(3) notification draft and the
Art. 34 communication to the data subjects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.incidents import clock, communication, draft
from app.incidents.completeness import still_to_record
from app.incidents.register import IncidentRegister, IncidentView, utc_now
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.ui.incidents.awareness import ask_awareness
from app.ui.incidents.details import ask_details
from app.ui.incidents.time_dialog import TimeChange, ask_time
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.workers import submit

HEADERS = ("ID", "State", "Title", "Aware (UTC)", "Deadline (UTC)", "Deadline (local)", "Clock")
AskText = Callable[[QWidget, str, str], str | None]
AskAwareness = Callable[[QWidget, IncidentView, datetime], tuple[datetime, str] | None]
AskDetails = Callable[[QWidget, IncidentView], dict[str, Any] | None]
AskTime = Callable[[QWidget, IncidentView, datetime], TimeChange | None]
ChooseFolder = Callable[[QWidget], Path | None]


def ask_text(parent: QWidget, title: str, label: str) -> str | None:
    text, ok = QInputDialog.getMultiLineText(parent, title, label)
    return text if ok and text.strip() else None


def choose_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Write the draft into folder")
    return Path(folder) if folder else None


def timeline(view: IncidentView) -> str:
    f = view.fields
    moments: list[tuple[datetime, str]] = []
    labels = (("occurred_from", "Occurred (from)"), ("occurred_to", "Occurred (to)"), ("detected_at", "Detected"),
              ("processor_notified_at", "Processor notified the controller"),
              ("investigation_at", "Investigation started"), ("aware_at", "Controller aware"),
              ("contained_at", "Contained"), ("risk_at", "Risk assessed"),
              ("subjects_informed_at", "Data subjects informed"), ("closed_at", "Closed"))  # fmt: skip
    moments += [(f[key], label) for key, label in labels if f[key]]
    moments += [(n.at, f"Notified ({n.kind}), reference {n.reference}") for n in view.notifications]
    lines = [f"{clock.utc_text(at)}  {label}" for at, label in sorted(moments)]
    if view.aware_anchor and view.aware_anchor != f["aware_at"]:
        lines.append(f"The deadline runs from the first awareness, {clock.utc_text(view.aware_anchor)}.")
    if f["aware_reason"]:
        lines.append(f"\nAware because: {f['aware_reason']}")
    if f["risk"]:
        lines.append(f"Risk: {f['risk']} — {f['risk_reason']}")
    missing = still_to_record(f) if view.state != "closed" else []
    if missing:
        lines.append("Still to record for the authority: " + "; ".join(missing))
    history = history_text(view)
    return "\n".join(lines + ([f"\n{history}"] if history else [])) or "No times recorded yet."


def history_text(view: IncidentView) -> str:
    """Every value each time has held, in the order recorded: what, when it was recorded, by whom, and why."""
    numbers = {n.id: n.number for n in view.notifications}
    keys = list(dict.fromkeys((e.name, e.notification_id) for e in view.history))
    lines = []
    for name, note in keys:
        entries = view.entries(name, note)
        label = entries[0].label + (f" (notification {numbers.get(note)})" if note else "")
        for index, entry in enumerate(entries):
            kind = "correction" if index else "first recorded"
            reason = f": {entry.reason}" if entry.reason else ""
            lines.append(f"  {label}: {clock.utc_text(entry.at)} — {kind} {clock.utc_text(entry.recorded_at)} "
                         f"by {entry.recorded_by}{reason}")  # fmt: skip
    return ("History of times (corrections never replace an earlier value):\n" + "\n".join(lines)) if lines else ""


class IncidentsPage(QWidget):
    def __init__(
        self,
        vault: Vault,
        policy: PolicyInForce,
        parent: QWidget | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.vault = vault
        self.policy = policy
        self.now = now
        self.register = IncidentRegister(vault, now)
        self.ask_text: AskText = ask_text
        self.ask_awareness: AskAwareness = ask_awareness
        self.ask_details: AskDetails = ask_details
        self.ask_time: AskTime = ask_time
        self.choose_folder: ChooseFolder = choose_folder
        self.incidents: list[IncidentView] = []
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.summary = plain_label(wrap=True)
        self.open_button = QPushButton("&Open an incident…")
        self.open_button.clicked.connect(self.open_incident)
        self.aware_button = QPushButton("Record &awareness…")
        self.aware_button.clicked.connect(self.record_awareness)
        self.time_button = QPushButton("Record or correct a &time…")
        self.time_button.clicked.connect(self.record_time)
        self.details_button = QPushButton("D&etails for the authority…")
        self.details_button.clicked.connect(self.record_details)
        self.draft_button = QPushButton("Notification &draft…")
        self.draft_button.clicked.connect(self.export_draft)
        self.communication_button = QPushButton("&Communication to data subjects…")
        self.communication_button.clicked.connect(self.export_communication)
        # Two rows, so the page stays usable at 200 %: what is recorded, then what is written from it.
        recording, drafts = QHBoxLayout(), QHBoxLayout()
        for row, row_buttons in ((recording, (self.open_button, self.aware_button, self.time_button,
                                              self.details_button)),
                                 (drafts, (self.draft_button, self.communication_button))):  # fmt: skip
            for button in row_buttons:
                row.addWidget(button)
            row.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Vertical)  # the table needs the width: the clock is its last column
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(recording)
        layout.addLayout(drafts)
        layout.addWidget(splitter, 1)
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.countdown.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.countdown.stop()
        super().hideEvent(event)

    # -- data ----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.vault.is_open:
            submit(self.register.list, self._listed, self._failed)

    def _listed(self, incidents: list[IncidentView]) -> None:
        selected = self._selected()
        self.incidents = incidents
        self.table.setRowCount(len(incidents))
        for row, view in enumerate(incidents):
            for column, value in enumerate(self._row(view)):
                self.table.setItem(row, column, QTableWidgetItem(value))
        running = [v for v in incidents if v.clock(self.now()).state in ("running", "overdue")]
        candidates = sum(1 for v in incidents if v.state == "candidate")
        self.summary.setText(
            f"{len(incidents)} incident(s) in the register; {len(running)} with the 72-hour clock running; "
            f"{candidates} candidate(s) from alerts awaiting a decision."
        )
        if selected is not None:
            for row, view in enumerate(incidents):
                if view.id == selected.id:
                    self.table.selectRow(row)
        elif incidents:
            self.table.selectRow(0)  # the newest incident's timeline, without a click
        self._show_selected()  # the selected incident's newest data, even when the selection did not move

    def _row(self, view: IncidentView) -> list[str]:
        status = view.clock(self.now())
        aware = clock.utc_text(view.aware_anchor) if view.aware_anchor else "—"  # what the deadline runs from
        utc_deadline = clock.utc_text(status.deadline) if status.deadline else "—"
        local_deadline = clock.local_text(status.deadline) if status.deadline else "—"
        return [str(view.id), view.state, view.title, aware, utc_deadline, local_deadline, status.describe()]

    def _tick(self) -> None:
        now = self.now()
        for row, view in enumerate(self.incidents):
            item = self.table.item(row, len(HEADERS) - 1)
            if item is not None:
                item.setText(view.clock(now).describe())

    def _selected(self) -> IncidentView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.incidents[rows[0].row()] if rows and rows[0].row() < len(self.incidents) else None

    def _show_selected(self) -> None:
        view = self._selected()
        self.detail.setPlainText(timeline(view) if view else "")

    # -- actions -------------------------------------------------------------------------------------------
    def open_incident(self) -> None:
        title = self.ask_text(self, "Open an incident", "A short title (no personal data):")
        if title:
            operator = login_name()
            submit(lambda: self.register.open_incident(title.strip(), operator), self._changed, self._failed)

    def record_awareness(self) -> None:
        view = self._selected()
        if view is None:
            self.summary.setText("Select an incident first.")
            return
        answer = self.ask_awareness(self, view, self.now())
        if answer:
            at, reason = answer
            operator = login_name()
            submit(lambda: self.register.set_aware(view.id, operator, reason, at), self._changed, self._failed)

    def record_time(self) -> None:
        view = self._selected()
        if view is None:
            self.summary.setText("Select an incident first.")
            return
        change = self.ask_time(self, view, self.now())
        if change is not None:
            operator = login_name()
            submit(lambda: self._apply_time(view.id, operator, change), self._changed, self._failed)

    def _apply_time(self, incident_id: int, operator: str, change: TimeChange) -> IncidentView:
        if change.name == "notified":
            assert change.notification is not None
            return self.register.correct_notification(incident_id, operator, change.notification, change.at,
                                                      change.reason)  # fmt: skip
        if change.name == "subjects_informed_at":
            return self.register.inform_subjects(incident_id, operator, change.at, change.reason)
        return self.register.update(incident_id, operator, change.reason, **{change.name: change.at})

    def record_details(self) -> None:
        view = self._selected()
        if view is None:
            self.summary.setText("Select an incident first.")
            return
        changes = self.ask_details(self, view)
        if changes == {}:
            self.summary.setText("Nothing changed.")
        elif changes:
            operator = login_name()
            submit(lambda: self.register.update(view.id, operator, **changes), self._changed, self._failed)

    def export_draft(self) -> None:
        self._write(draft.write, "notification draft")

    def export_communication(self) -> None:
        self._write(communication.write, "communication to the data subjects")

    def _write(self, write: Callable[..., list[Path]], what: str) -> None:
        view = self._selected()
        folder = self.choose_folder(self) if view else None
        if view is None or folder is None:
            return
        active = self.policy.get()
        now = self.now()
        # A fraction of a second (a Markdown file and a short PDF): a status line, no bar and no Cancel.
        self.summary.setText(f"Writing the {what}…")
        submit(lambda: write(view, active.policy, now, active.record.stamp, folder), self._drafted, self._failed)

    def _drafted(self, paths: list[Path]) -> None:
        self.summary.setText("Draft written: " + ", ".join(str(p) for p in paths))

    def _changed(self, _result: object) -> None:
        self.refresh()

    def _failed(self, exc: Exception) -> None:
        self.summary.setText(user_message(exc, "The register could not be changed."))
