"""The breach register in the app, the whole process as ``custos breach`` runs it: every incident with its state and
live countdown, one incident's timeline and the history of every time recorded (corrections never replace); open
by hand, or dismiss one no one is aware of yet (a candidate from alerts or one opened by hand) as not a breach;
awareness (a person's decision, at a real time, with the reasoning;
again, a correction with its reason); the risk assessment, containment, the Art. 33(3)(a) figures, notifications
to the authority (initial and follow-up), the Art. 34 communication or its exemption, closing; the Art. 33(3)
notification draft and the Art. 34 communication to the data subjects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHeaderView,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.services.incidents import (
    IncidentRegister,
    IncidentView,
    Written,
    clock_short,
    clock_text,
    controller_zone,
    local_text,
    record_delay_reason,
    state_text,
    still_to_record,
    utc_now,
    utc_text,
    write_letter,
    zoned_text,
)
from app.services.incidents import register as incident_register
from app.services.policy import PolicyInForce
from app.store.vault import Vault
from app.ui.action_bar import ActionBar
from app.ui.exports.register_dialog import BREACHES, RegisterExportDialog
from app.ui.incidents.awareness import ask_awareness
from app.ui.incidents.details import ask_details
from app.ui.incidents.refusals import refusal_words
from app.ui.incidents.scope_dialog import ScopeDialog
from app.ui.incidents.steps import (
    CloseDialog,
    CommunicationDialog,
    ContainmentDialog,
    DelayReasonDialog,
    DismissDialog,
    NotificationDialog,
    OpenDialog,
    RiskDialog,
    run_dialog,
)
from app.ui.incidents.time_dialog import TimeChange, ask_time
from app.ui.policy.common import login_name, plain_label
from app.ui.wanted import Wanted, focus_row
from app.ui.widgets import documents_dir
from app.ui.workers import submit

# The clock comes right after the state, in a few words (the whole sentence is its tooltip and opens the detail):
# as the last column it was off-screen at 640×480.
AnyDialog = TypeVar("AnyDialog", bound=QDialog)  # what _with_selected made, with its own value()
HEADERS = ("ID", "State", "Clock", "Title", "Aware (UTC)", "Deadline (UTC)", "Deadline (local)")
# Whose "local" the last column is: the controller's zone (the request register's settings) where one is set, else
# this computer's. The dialogs' "local time" is always this computer's; the header says which one the column is.
LOCAL_HEADERS = {True: "Deadline (controller's zone)", False: "Deadline (this computer's zone)"}
CLOCK = HEADERS.index("Clock")
RunDialog = Callable[[QDialog], bool]
AskAwareness = Callable[[QWidget, IncidentView, datetime], tuple[datetime, str] | None]
AskDetails = Callable[[QWidget, IncidentView], dict[str, Any] | None]
AskTime = Callable[[QWidget, IncidentView, datetime], TimeChange | None]
ChooseFolder = Callable[[QWidget], Path | None]


def _origin(view: IncidentView) -> str:
    source = str(view.source)
    return f"Candidate from the alert rule {source[6:]}" if source.startswith("alert:") else "Opened by hand"


def choose_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Write the draft into folder", documents_dir())  # not the cwd
    return Path(folder) if folder else None


def timeline(view: IncidentView, now: datetime) -> str:
    f = view.fields
    moments: list[tuple[datetime, str]] = []
    labels = (("occurred_from", "Occurred (from)"), ("occurred_to", "Occurred (to)"), ("detected_at", "Detected"),
              ("processor_notified_at", "Processor notified the controller"),
              ("investigation_at", "Investigation started"), ("aware_at", "Controller aware"),
              ("contained_at", "Contained"), ("risk_at", "Risk assessed"),
              ("subjects_informed_at", "Data subjects informed"), ("closed_at", "Closed"))  # fmt: skip
    moments += [(f[key], label) for key, label in labels if f[key]]
    moments += [(n.at, f"Notified ({n.kind}), reference {n.reference}") for n in view.notifications]
    lines = [f"{_origin(view)}; {state_text(view)}.", f"Clock: {clock_text(view, now)}."]
    lines += [f"{utc_text(at)}  {label}" for at, label in sorted(moments, key=lambda m: m[0])]  # stable
    if view.aware_anchor and view.aware_anchor != f["aware_at"]:
        lines.append(f"The deadline runs from the earliest awareness recorded, {utc_text(view.aware_anchor)}.")
    if f["aware_reason"]:
        lines.append(f"\nAware because: {f['aware_reason']}")
    if f["risk"]:
        lines.append(f"Risk: {f['risk']} — {f['risk_reason']}")
    if f["measures"]:
        lines.append(f"Measures: {f['measures']}")
    if f["approx_subjects"] is not None:
        lines.append(f"Approximately {counted(f['approx_subjects'], 'data subject')}, "
                     f"{counted(f['approx_records'] or 0, 'record')}; "
                     f"categories: {', '.join(f['categories']) or 'none'}")  # fmt: skip
    if f["art34_exemption"]:
        lines.append(f"Art. 34 exemption ({f['art34_exemption']}): {f['art34_reason']}")
    if f["delay_reason"]:
        lines.append(f"Reasons for the delay: {f['delay_reason']}")
    if f["not_notified_rationale"]:
        lines.append(f"Not notified because: {f['not_notified_rationale']}")
    missing = still_to_record(f, view.clock(now).state) if view.state != "closed" else []
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
            lines.append(f"  {label}: {utc_text(entry.at)} — {kind} {utc_text(entry.recorded_at)} "
                         f"by {entry.recorded_by}{reason}")  # fmt: skip
    return ("History of times (corrections never replace an earlier value):\n" + "\n".join(lines)) if lines else ""


def read_incidents(register: IncidentRegister, read: int) -> tuple[int, list[IncidentView], str | None]:
    """The register, newest first, with the number of the read and the controller's time zone where one is known
    (plain objects only: it runs in the pool)."""
    return read, register.list(), controller_zone(register.vault)


class IncidentsPage(QWidget):
    status_message = Signal(str)  # what the window's status bar should say (an incident a notice named is gone)

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
        self.register = incident_register(vault, now)
        self.run_dialog: RunDialog = run_dialog
        self.ask_awareness: AskAwareness = ask_awareness
        self.ask_details: AskDetails = ask_details
        self.ask_time: AskTime = ask_time
        self.choose_folder: ChooseFolder = choose_folder
        self.incidents: list[IncidentView] = []
        self.zone: str | None = None  # the controller's time zone, read with the register
        self.wanted: Wanted[int] = Wanted()  # the incident a notice named: selected once the register is read
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setTabKeyNavigation(False)  # read-only: Tab leaves the table (it walked every cell)
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
        # In the order of the process, in two rows that never cut a label: what does not fit in a narrow window
        # moves into the row's » menu (four rows of push buttons left the table no room at 640×480).
        self.process_bar = ActionBar("Incident process", keys_on=self)
        self.reporting_bar = ActionBar("Notifications and documents", keys_on=self)
        process, reporting = self.process_bar.add, self.reporting_bar.add
        self.open_button = process("&Open an incident…", self.open_incident)
        # Any incident no one is aware of yet, as the register allows: a hand-opened one is no "candidate"
        self.dismiss_button = process("Dis&miss as not a breach…", self.dismiss)
        self.aware_button = process("Record &awareness…", self.record_awareness)
        self.risk_button = process("Assess the ris&k…", self.assess_risk)
        self.contain_button = process("Co&ntainment…", self.record_containment)
        self.scope_button = process("&Scope (who, what)…", self.compute_scope)
        self.details_button = process("D&etails for the authority…", self.record_details)
        self.time_button = reporting("Record or correct a &time…", self.record_time)
        self.delay_button = reporting("Reasons for dela&y…", self.record_delay_reason)
        self.notify_button = reporting("Noti&fy the authority…", self.notify)
        self.inform_button = reporting("Art. 34: inform or exem&pt…", self.record_communication)
        self.close_button = reporting("C&lose…", self.close_incident)
        self.reporting_bar.addSeparator()
        self.draft_button = reporting("Notification &draft…", self.export_draft)
        self.communication_button = reporting("&Communication to data subjects…", self.export_communication)
        self.reporting_bar.addSeparator()
        # The whole register (Art. 33(5)), not the selected incident: never disabled by the selection.
        self.register_button = reporting("E&xport register…", self.export_register)
        self.register_dialog: RegisterExportDialog | None = None
        splitter = QSplitter(Qt.Orientation.Vertical)  # the table needs the width
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.detail.setMinimumHeight(self.fontMetrics().lineSpacing() * 2)  # it scrolls; the table comes first
        splitter.setSizes([3000, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.process_bar)
        layout.addWidget(self.reporting_bar)
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
            submit(partial(read_incidents, self.register, self.wanted.next_read()), self._listed, self._failed)

    def _listed(self, result: tuple[int, list[IncidentView], str | None]) -> None:
        read, incidents, zone = result
        if self.wanted.outdated(read):
            return
        self.zone = zone
        self.table.setHorizontalHeaderItem(len(HEADERS) - 1, QTableWidgetItem(LOCAL_HEADERS[bool(zone)]))
        selected = self._selected()
        self.incidents = incidents
        self.table.setRowCount(len(incidents))
        now = self.now()
        for row, view in enumerate(incidents):
            for column, value in enumerate(self._row(view)):
                self.table.setItem(row, column, QTableWidgetItem(value))
            clock_item = self.table.item(row, CLOCK)
            if clock_item is not None:
                clock_item.setToolTip(clock_text(view, now))
        running = [v for v in incidents if v.clock(self.now()).state in ("running", "overdue")]
        candidates = sum(1 for v in incidents if state_text(v) == "candidate")
        by_hand = sum(1 for v in incidents if state_text(v) == "awaiting awareness")
        text = (f"{counted(len(incidents), 'incident')} in the register; {len(running)} with the 72-hour clock "
                f"running; {counted(candidates, 'candidate')} from alerts awaiting a decision")  # fmt: skip
        self.summary.setText(text + (f"; {by_hand} opened by hand awaiting awareness." if by_hand else "."))
        wanted = self.wanted.take(read)
        rows = {view.id: row for row, view in enumerate(incidents)}
        found = rows.get(wanted) if wanted is not None else None
        chosen = found if found is not None else rows.get(selected.id) if selected is not None else None
        if chosen is None and incidents and selected is None:
            chosen = 0  # the newest incident's timeline, without a click
        if chosen is not None:
            self.table.selectRow(chosen)
        if wanted is not None:
            self._show_wanted(wanted, found)
        self._show_selected()  # the selected incident's newest data, even when the selection did not move

    def show_incident(self, reference: str) -> None:
        """Select, scroll to and focus the incident a notice was about (``"3"``), once the register is read again:
        the notice may be minutes old. If it is gone, the status bar says so and the selection stays."""
        if not reference.isdigit():
            self.status_message.emit(f"The notice named no incident Custos can find ({reference[:20]!r}).")
            return
        self.wanted.ask(int(reference))
        self.refresh()

    def _show_wanted(self, wanted: int, row: int | None) -> None:
        if row is None:
            self.status_message.emit(f"Incident #{wanted} is no longer in the register.")
            return
        focus_row(self.table, row)
        if self.incidents[row].state == "closed":
            self.status_message.emit(f"Incident #{wanted} has been closed since the notice.")

    def _row(self, view: IncidentView) -> list[str]:
        status = view.clock(self.now())
        aware = utc_text(view.aware_anchor) if view.aware_anchor else "—"  # what the deadline runs from
        utc_deadline = utc_text(status.deadline) if status.deadline else "—"
        local_deadline = self._local(status.deadline) if status.deadline else "—"
        return [str(view.id), state_text(view), clock_short(view, self.now()), view.title, aware, utc_deadline,
                local_deadline]  # fmt: skip

    def _local(self, moment: datetime) -> str:
        """Where the controller is (``2026-11-05 10:00 Europe/Berlin``), as ``breach aware`` says it; without a known
        zone, this workstation's, named."""
        return zoned_text(moment, self.zone) if self.zone else local_text(moment)

    def _tick(self) -> None:
        now = self.now()
        for row, view in enumerate(self.incidents):
            item = self.table.item(row, CLOCK)
            if item is not None:
                item.setText(clock_short(view, now))
                item.setToolTip(clock_text(view, now))
        self._show_timeline(self._selected())  # its "Clock: …" line counts down with the column above it

    def _selected(self) -> IncidentView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.incidents[rows[0].row()] if rows and rows[0].row() < len(self.incidents) else None

    def _show_selected(self) -> None:
        view = self._selected()
        self._show_timeline(view)
        self._enable(view)

    def _show_timeline(self, view: IncidentView | None) -> None:
        """The timeline as of now; rewritten only when it changed (about once a minute), where it was scrolled to."""
        text = timeline(view, self.now()) if view else ""
        if text == self.detail.toPlainText():
            return
        scrolled = self.detail.verticalScrollBar().value()
        self.detail.setPlainText(text)
        self.detail.verticalScrollBar().setValue(scrolled)

    def _enable(self, view: IncidentView | None) -> None:
        """What can be done to the selected incident; the register checks again (a click never half-works).
        Through each button's action: a command in the » menu, or its Alt key, is then disabled too."""
        open_ = view is not None and view.state != "closed"
        aware = open_ and view is not None and view.aware_at is not None
        for button in (self.aware_button, self.contain_button, self.scope_button, self.details_button,
                       self.time_button, self.risk_button, self.close_button):  # fmt: skip
            button.defaultAction().setEnabled(open_)
        self.dismiss_button.defaultAction().setEnabled(open_ and not aware)
        self.notify_button.defaultAction().setEnabled(aware)
        self.delay_button.defaultAction().setEnabled(aware)
        self.inform_button.defaultAction().setEnabled(aware)
        for button in (self.draft_button, self.communication_button):
            button.defaultAction().setEnabled(view is not None)

    # -- actions -------------------------------------------------------------------------------------------
    def open_incident(self) -> None:
        dialog = OpenDialog(self.now(), self)
        if self.run_dialog(dialog):
            given, operator = dialog.value(), login_name()
            submit(lambda: self.register.open_incident(given.title, operator, given.description, given.detected_at),
                   self._opened, self._failed)  # fmt: skip

    def _opened(self, incident_id: int) -> None:
        """The new incident is what the next step is for: selected, not the one selected before (Record
        awareness… went to that one)."""
        self.wanted.ask(incident_id)
        self.refresh()

    def _with_selected(self, make: Callable[[IncidentView], AnyDialog]) -> tuple[IncidentView, AnyDialog] | None:
        view = self._selected()
        if view is None:
            self.summary.setText("Select an incident first.")
            return None
        dialog = make(view)
        return (view, dialog) if self.run_dialog(dialog) else None

    def _record(self, work: Callable[[], object]) -> None:
        submit(work, self._changed, self._failed)

    def dismiss(self) -> None:
        if answer := self._with_selected(lambda v: DismissDialog(v, self)):
            view, dialog = answer
            reason, operator = dialog.value(), login_name()
            self._record(lambda: self.register.dismiss(view.id, operator, reason))

    def assess_risk(self) -> None:
        if answer := self._with_selected(lambda v: RiskDialog(v, self)):
            view, dialog = answer
            (risk, reason), operator = dialog.value(), login_name()
            self._record(lambda: self.register.assess(view.id, operator, risk, reason))

    def record_containment(self) -> None:
        if answer := self._with_selected(lambda v: ContainmentDialog(v, self.now(), self)):
            view, dialog = answer
            (values, reason), operator = dialog.value(), login_name()
            self._record(lambda: self.register.update(view.id, operator, reason, **values))

    def compute_scope(self) -> None:
        if answer := self._with_selected(lambda v: ScopeDialog(self.vault, self.policy, v, self.now(), self)):
            view, dialog = answer
            values, operator = dialog.value(), login_name()
            self._record(lambda: self.register.update(view.id, operator, "", **values))  # no reason: nothing corrected

    def record_delay_reason(self) -> None:
        if answer := self._with_selected(lambda v: DelayReasonDialog(v, self.now(), self)):
            view, dialog = answer
            reason, operator = dialog.value(), login_name()
            self._record(lambda: record_delay_reason(self.register, view.id, operator, reason))

    def notify(self) -> None:
        if answer := self._with_selected(lambda v: NotificationDialog(v, self.now(), self)):
            view, dialog = answer
            given, operator = dialog.value(), login_name()
            self._record(lambda: self.register.notify(view.id, operator, given.reference, given.at, given.summary,
                                                      given.delay_reason, given.follow_up))  # fmt: skip

    def record_communication(self) -> None:
        if answer := self._with_selected(lambda v: CommunicationDialog(v, self.now(), self)):
            view, dialog = answer
            given, operator = dialog.value(), login_name()
            if given.informed:
                self._record(lambda: self.register.inform_subjects(view.id, operator, given.at, given.reason))
            else:
                self._record(lambda: self.register.exempt_from_communication(view.id, operator, given.exemption or "",
                                                                             given.reason))  # fmt: skip

    def close_incident(self) -> None:
        if answer := self._with_selected(lambda v: CloseDialog(v, self)):
            view, dialog = answer
            rationale, operator = dialog.value(), login_name()
            self._record(lambda: self.register.close(view.id, operator, rationale))

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
        self._write("authority", "notification draft")

    def export_communication(self) -> None:
        self._write("subjects", "communication to the data subjects")

    def _write(self, audience: str, what: str) -> None:
        view = self._selected()
        folder = self.choose_folder(self) if view else None
        if view is None or folder is None:
            return
        register, policy, incident_id = self.register, self.policy, view.id
        # A fraction of a second (a Markdown file and a short PDF): a status line, no bar and no Cancel.
        self.summary.setText(f"Writing the {what}…")
        submit(lambda: write_letter(register, policy, incident_id, audience, folder), self._drafted, self._failed)

    def export_register(self) -> None:
        """The whole register as CSV or XLSX for the supervisory authority; the dialog asks the format and where."""
        dialog = RegisterExportDialog(self.vault, BREACHES, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.register_dialog = dialog
        dialog.open()

    def _drafted(self, files: list[Written]) -> None:
        self.summary.setText("Draft written: " + ", ".join(str(f.path) for f in files))

    def _changed(self, _result: object) -> None:
        self.refresh()

    def _failed(self, exc: Exception) -> None:
        # A refusal that came past a dialog's own checks (another process changed the incident meanwhile, or a
        # check only the register makes): said with the page's buttons, never the command line's options.
        self.summary.setText(refusal_words(exc, "The register could not be changed."))
