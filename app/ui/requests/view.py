"""The Requests page: the queue of data subject requests sorted by due date, filtered by state and type, with the
Art. 12(3) clock (amber in the last 7 days, red when overdue, and said in words too), one request's record and
timeline, and its actions as buttons. The passphrase is asked again before an export or an erasure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import CustosError
from app.core.wording import counted
from app.services import dsr
from app.services.dsr import (
    Acted,
    Answer,
    DsrRegister,
    RequestView,
    act,
    erasure_preview,
    model,
    private_text,
    today_in,
)
from app.services.erasure import DEFAULT_GROUND, GROUNDS, Preview
from app.store.vault import Vault
from app.ui.erasure.dialog import whom
from app.ui.erasure.lines import preview_rows
from app.ui.exports.register_dialog import REQUESTS, RegisterExportDialog
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.requests import forms
from app.ui.requests.intake import MatchDialog, NewRequestDialog
from app.ui.requests.settings_dialog import DeadlineSettingsDialog
from app.ui.theme import StatusKind, status_colour
from app.ui.wanted import Wanted, focus_row
from app.ui.widgets import documents_dir
from app.ui.workers import submit

HEADERS = ("Request", "Rights", "Received", "Due", "Days left", "State")
# The table names rights by their short words; a misrouted request's identifier read as a code ("not_gdpr").
_SHORT_RIGHT = {"not_gdpr": "not a GDPR request"}
_STATE_COLOUR: dict[str, StatusKind] = {"due_soon": "warning", "overdue": "error"}  # the "Days left" cell
STATE_FILTERS = (("Not closed", "pending"), ("Overdue", "overdue"), ("All", "all"),
                 ("Answered", "answered"), ("Closed", "closed"))  # fmt: skip
UNMATCHED_ACT = "Match identity… first: an export or an erasure needs the person found in the mirror."
UNVERIFIED_ACT = "Verify identity… first: an export or an erasure waits for the identity check. Identity: {}."
RunForm = Callable[[forms.FormDialog], dict[str, Any] | None]
RunIntake = Callable[[NewRequestDialog], str | None]
ChooseFolder = Callable[[QWidget, str], Path | None]
ConfirmErasure = Callable[[QWidget, str], bool]


def run_form(dialog: forms.FormDialog) -> dict[str, Any] | None:
    values = dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None
    dialog.deleteLater()  # a child of the page: without this each opening would stay in memory
    return values


def run_intake(dialog: NewRequestDialog) -> str | None:
    created = dialog.created if dialog.exec() == QDialog.DialogCode.Accepted else None
    dialog.deleteLater()
    return created


def run_settings(dialog: DeadlineSettingsDialog) -> bool:
    saved = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    return saved


def run_match(dialog: MatchDialog) -> bool:
    matched = dialog.exec() == QDialog.DialogCode.Accepted and dialog.matched
    dialog.deleteLater()
    return matched


def confirm_erasure(parent: QWidget, question: str) -> bool:
    """Erase? No is the default: Enter pressed from habit erases nothing."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Erase this person", question,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)  # fmt: skip
    box.button(QMessageBox.StandardButton.Yes).setText("&Erase")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def choose_folder(parent: QWidget, title: str) -> Path | None:
    # Documents, never the working directory (the program's own folder from a launcher): a subject export and
    # an answer letter hold personal data, and were offered the folder the app was started from.
    folder = QFileDialog.getExistingDirectory(parent, title, documents_dir())
    return Path(folder) if folder else None


def days_text(view: RequestView, now: datetime) -> str:
    clock = view.clock(now)
    if clock.state == "no_deadline":  # not a GDPR request: nothing counts down
        return "no GDPR deadline"
    if view.answered_on is not None:
        return "answered in time" if clock.state == "answered_in_time" else "answered late"
    if clock.state == "paused":  # Art. 12(6): waiting for identity information; the days left stand still
        return f"paused ({clock.days_left} d left)"
    if clock.days_left < 0:
        return f"overdue by {-clock.days_left} d"
    return "due today" if clock.days_left == 0 else f"{clock.days_left} d"


def act_blocked(view: RequestView) -> str:
    """Why Act cannot run for ``view`` ("" when it can), as app.services.dsr_actions refuses it."""
    if not view.subject:
        return UNMATCHED_ACT
    if view.verification in ("requested", "failed"):
        return UNVERIFIED_ACT.format(model.VERIFICATION[view.verification])
    return ""


def identity_text(view: RequestView) -> str:
    """The verification as recorded (``dsr show`` says it the same way)."""
    return model.verification_said(view.verification, view.verification_at)


def _waited(view: RequestView) -> str:
    """The Art. 12(6) days added to the month, as ``dsr show`` says them: "one month" alone stood beside a due date
    that the days waited for identity information had moved."""
    days = view.paused_days
    return f" and {counted(days, 'day')} waited for identity information, Art. 12(6)" if days else ""


def _matched(view: RequestView, erased: bool) -> str:
    if not view.subject:
        return "not matched to an identity"
    # "matched to an identity" alone was said of a person erased since, whom Act can no longer export or erase
    return "matched to an identity, since erased from the mirror" if erased else "matched to an identity"


def record_text(view: RequestView, timeline: list[Any], now: datetime, erased: bool = False) -> str:
    """One request as the page shows it: every date ISO, the steps, the attachments, then the timeline.
    ``erased``: the matched person was erased since (app.services.dsr.subject_erased)."""
    lines = [
        f"{view.id} — {', '.join(model.RIGHTS[r] for r in view.rights)}",
        f"State: {view.state.replace('_', ' ')}" + (f" ({model.OUTCOMES[view.outcome]})" if view.outcome else ""),
        f"Received {view.received_day.isoformat()} ({view.zone}) by {view.channel}; requester: {view.requester}",
        f"Identity: {identity_text(view)}; "
        + _matched(view, erased),
        f"Due {view.due.isoformat()} (one month{_waited(view)}, next working day; holidays of "
        f"{view.country or 'no country'})" if view.gdpr else "Due: none (not a data subject request: no GDPR deadline)",
    ]
    if view.extended_months:
        lines.append(f"Extended to {view.extended_due.isoformat()} (told {view.extension_told.isoformat()})")
    if view.refusal_due:
        lines.append(f"Refusal due {view.refusal_due.isoformat()} (Art. 12(4): a refusal reaches the person within "
                     "one month of receipt, whatever the extension)")  # fmt: skip
    lines.append(f"Clock: {view.clock(now).describe()}")
    if view.restricted:
        lines.append("Restriction in force: the applications receive the account as inactive.")
    if view.shredded:
        lines.append("Requester's details: crypto-shredded (the subject was erased)")
    else:  # sealed at rest; shown here to the operator who has to answer
        who = private_text(view, "requester", "name") or "not recorded"
        authority = private_text(view, "requester", "authority")
        lines.append(f"Requester: {who}" + (f" (authority seen: {authority})" if authority else ""))
        channel, address = private_text(view, "answer", "channel"), private_text(view, "answer", "address")
        lines.append(f"Answer by: {channel or view.channel}" + (f", {address}" if address else ""))
        if private_text(view, "note"):
            lines.append(f"Note: {private_text(view, 'note')}")
    lines.append("")
    for step in view.steps:
        link = f" → {step.link_kind} {step.link_ref}" if step.link_ref else ""
        if step.link_kind == "erased_before":
            link = f" (erased earlier: erasure {step.link_ref})"
        ground = f" ({step.ground})" if step.ground else ""
        lines.append(f"  {model.RIGHTS[step.right]}: {step.state.replace('_', ' ')}{ground}{link}")
    for item in view.attachments:
        lines.append(f"  Attached: {item.name} (SHA-256 {item.sha256[:16]}…)")
    lines.append("")
    lines += [f"{entry.at[:16].replace('T', ' ')} UTC  {entry.text}" for entry in timeline]
    return "\n".join(lines)


# Work for the pool gets plain objects only (functools.partial, no closure over a widget): a widget's wrapper
# released on a pool thread crashes PySide (decision 0013).
def load_requests(register: DsrRegister, read: int = 0) -> tuple[list[RequestView], str, int]:
    """The requests, a note when no country is set (then public holidays are not counted), and the read's number."""
    try:
        where = dsr.settings_for(register.vault, register.vault.path.parent)
    except CustosError as exc:
        return register.list(), " " + exc.user_message, read
    note = "" if where.country else (" No country is set, so only weekends move a deadline (not public "
                                     "holidays): set the country with Deadline settings…")  # fmt: skip
    return register.list(), note, read


def answer_request(register: DsrRegister, request_id: str, operator: str, folder: Path, sent: Any,
                   none_held: bool) -> Answer:  # fmt: skip
    """The Answer form's work: the open rights recorded "none held" first when chosen (decision 0073), then the
    letter written (and recorded as sent, with a date)."""
    if none_held:
        register.none_held(request_id, operator)
    return dsr.answer(register, request_id, operator, folder, sent)


def load_record(register: DsrRegister, view: RequestView) -> str:
    return record_text(view, dsr.timeline(register.vault, view.id), register.now(), dsr.subject_erased(register, view))


class RequestsPage(QWidget):
    status_message = Signal(str)  # what the window's status bar should say (a request a notice named is gone)

    def __init__(self, vault: Vault, reauthenticate: Reauthenticate | None = None, parent: QWidget | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        super().__init__(parent)
        self.vault = vault
        self.register = dsr.register(vault, now)
        self.reauthenticate = reauthenticate
        self.run_form: RunForm = run_form
        self.run_intake: RunIntake = run_intake
        self.run_match: Callable[[MatchDialog], bool] = run_match
        self.run_settings: Callable[[DeadlineSettingsDialog], bool] = run_settings
        self.choose_folder: ChooseFolder = choose_folder
        self.confirm_erasure: ConfirmErasure = confirm_erasure
        self.requests: list[RequestView] = []
        self.shown: list[RequestView] = []
        self.wanted: Wanted[str] = Wanted()  # the request a notice named: selected once the register is read
        self.settings_note = ""
        self._done_message = ""
        self.summary = plain_label(wrap=True)  # the counts and the nearest deadline
        self.status = plain_label(wrap=True)  # what the last action did, or why it could not
        self.status.hide()  # no empty line at the top until there is something to say
        self.state_filter = QComboBox()
        self.type_filter = QComboBox()
        for label, key in STATE_FILTERS:
            self.state_filter.addItem(label, key)
        self.type_filter.addItem("All rights", None)
        for key, label in model.RIGHTS.items():
            self.type_filter.addItem(label, key)
        self.state_filter.currentIndexChanged.connect(self._refill)
        self.type_filter.currentIndexChanged.connect(self._refill)
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
        self.table.setAccessibleName("Requests, nearest deadline first")
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName("The selected request and its timeline")
        self.new_button = self._button("&New request…", self.new_request)
        self.register_button = self._button("Ex&port register…", self.export_register)  # the whole register
        self.register_dialog: RegisterExportDialog | None = None
        self.settings_button = self._button("&Deadline settings…", self.deadline_settings)  # beside the note
        self.action_buttons = {
            "verify": self._button("Veri&fy identity…", self.verify),
            "extend": self._button("E&xtend…", self.extend),
            "act": self._button("&Act (export / erase)…", self.act),
            "task": self._button("Record &task…", self.task),
            "refuse": self._button("R&efuse…", self.refuse),
            "answer": self._button("Ans&wer…", self.answer),
            "close": self._button("C&lose", self.close_request),
            "match": self._button("&Match identity…", self.match),
            "lift": self._button("Lift restri&ction", self.lift),
        }
        self._layout()
        self.ticker = QTimer(self)  # days change rarely; a minute keeps the clock true across midnight
        self.ticker.setInterval(60_000)
        self.ticker.timeout.connect(self._refill)

    def _button(self, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.new_button)
        top.addStretch(1)
        for label_text, combo in (("&Show:", self.state_filter), ("Ri&ght:", self.type_filter)):
            label = QLabel(label_text)
            label.setBuddy(combo)
            top.addWidget(label)
            top.addWidget(combo)
        buttons = QGridLayout()
        for index, button in enumerate(self.action_buttons.values()):
            buttons.addWidget(button, index // 5, index % 5)
        # In the grid's free cell, not the top row: there it widened the page past 640 px (tests/ui small screens).
        buttons.addWidget(self.register_button, len(self.action_buttons) // 5, len(self.action_buttons) % 5)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(buttons)
        lower_layout.addWidget(self.detail, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        heading = QHBoxLayout()
        heading.addWidget(self.summary, 1)
        heading.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.status)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.ticker.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.ticker.stop()
        super().hideEvent(event)

    # -- data ----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.vault.is_open:
            submit(partial(load_requests, self.register, self.wanted.next_read()), self._listed, self._failed)

    def _listed(self, loaded: tuple[list[RequestView], str, int]) -> None:
        requests, settings_note, read = loaded
        if self.wanted.outdated(read):
            return
        self.requests, self.settings_note = requests, settings_note
        wanted = self.wanted.take(read)
        view = next((v for v in self.requests if v.id == wanted), None)
        if view is not None and not self._visible(view, self.register.now()):
            self._show_every_request()  # a filter hid it: the request the DPO asked for comes first
        self._fill(view.id if view is not None else None)
        if wanted is not None:
            self._show_wanted(wanted, view)

    def show_request(self, reference: str) -> None:
        """Select, scroll to and focus the request a notice was about, once the register is read again: the notice
        may be minutes old. If it is gone, the status bar says so and the selection stays."""
        self.wanted.ask(reference)
        self.refresh()

    def _show_every_request(self) -> None:
        for combo, data in ((self.state_filter, "all"), (self.type_filter, None)):
            with QSignalBlocker(combo):  # one refill, after both
                combo.setCurrentIndex(combo.findData(data))

    def _show_wanted(self, wanted: str, view: RequestView | None) -> None:
        row = next((row for row, shown in enumerate(self.shown) if view is not None and shown.id == view.id), None)
        if row is None:
            self.status_message.emit(f"Request {wanted[:40]} is no longer in the register.")
            return
        focus_row(self.table, row)
        if view is not None and view.state in ("answered", "closed"):
            self.status_message.emit(f"Request {view.id} has been {view.state} since the notice.")

    def _visible(self, view: RequestView, now: datetime) -> bool:
        wanted_state, wanted_right = self.state_filter.currentData(), self.type_filter.currentData()
        if wanted_right is not None and wanted_right not in view.rights:
            return False
        if wanted_state == "pending":
            return view.state != "closed"  # an answered request still waits to be closed
        if wanted_state == "overdue":
            return view.answered_on is None and view.clock(now).state == "overdue"
        return wanted_state == "all" or view.state == wanted_state

    def _refill(self, *_args: object) -> None:
        self._fill()  # a filter changed (its index is not a request id) or the minute ticked

    def _fill(self, prefer: str | None = None) -> None:
        """The table from the requests read last; ``prefer``: the request to select (else the one selected)."""
        selected = self._selected()
        keep = prefer or (selected.id if selected is not None else None)
        now = self.register.now()
        self.shown = [v for v in self.requests if self._visible(v, now)]
        self.table.setRowCount(len(self.shown))
        for row, view in enumerate(self.shown):
            due = view.deadline.isoformat() if view.gdpr else "—"
            rights = ", ".join(_SHORT_RIGHT.get(r, r) for r in view.rights)
            values = [view.id, rights, view.received_day.isoformat(), due, days_text(view, now),
                      view.state.replace("_", " ")]  # fmt: skip
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
            state = view.clock(now).state if view.answered_on is None else ""
            kind = _STATE_COLOUR.get(state)
            cell = self.table.item(row, 4)
            if kind is not None and cell is not None:
                cell.setForeground(status_colour(kind))
        pending = [v for v in self.requests if v.answered_on is None and v.state != "closed"]
        overdue = sum(1 for v in pending if v.clock(now).state == "overdue")
        nearest = min((v.deadline for v in pending if v.gdpr), default=None)  # not a GDPR request: no deadline
        self.summary.setText(
            f"{counted(len(pending), 'request')} awaiting an answer; {overdue} overdue"
            + (f"; nearest deadline {nearest.isoformat()}." if nearest else ".")
            + self.settings_note
        )
        listed = enumerate(self.shown)
        again = next((i for i, v in listed if v.id == keep), 0 if self.shown else None)
        if again is not None:
            self.table.selectRow(again)
        self._show_selected()

    def _selected(self) -> RequestView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows and rows[0].row() < len(self.shown) else None

    def _show_selected(self) -> None:
        view = self._selected()
        for name, button in self.action_buttons.items():
            button.setEnabled(view is not None and self._allowed(name, view))
        self.action_buttons["act"].setToolTip(act_blocked(view) if view is not None else "")
        if view is None:
            self.detail.setPlainText("")
            return

        submit(partial(load_record, self.register, view), partial(self._show_text, view.id), self._failed)

    def _show_text(self, request_id: str, text: str) -> None:
        """A record read for ``request_id``, shown only if that request is still the one selected: reads finish in
        any order, and a slower one for an earlier selection showed another request's record under this one."""
        selected = self._selected()
        if selected is not None and selected.id == request_id:
            self.detail.setPlainText(text)

    @staticmethod
    def _allowed(action: str, view: RequestView) -> bool:
        if action == "close":
            return view.state == "answered"
        if action == "lift":
            return bool(view.restricted)  # also once the request is closed: the flag holds until lifted
        if view.state in ("answered", "closed"):
            return False
        pending = {s.right for s in view.steps if not s.final}
        return {
            "extend": not view.extended_months,
            # An export or an erasure needs the person in the mirror and no doubt left about the requester: the page
            # asked the passphrase and a folder, then said "not matched" or "verify it first" (act_blocked says so).
            "act": bool(pending & {"access", "portability", "erasure"}) and not act_blocked(view),
            "task": bool(pending & set(model.TASK_RIGHTS)),
            "refuse": bool(pending),
            "match": not view.subject,
        }.get(action, True)

    # -- actions -------------------------------------------------------------------------------------------
    def _change(self, work: Callable[[], object], done: str) -> None:
        # Bound methods only as callbacks: Qt drops them if the page is gone when the worker ends (a closure
        # would still run, on a deleted widget).
        self._done_message = done
        submit(work, self._changed, self._failed)

    def _changed(self, _result: object) -> None:
        self._say(self._done_message)
        self.refresh()

    def export_register(self) -> None:
        """The whole register as CSV or XLSX for an auditor, its sealed requester details left out."""
        dialog = RegisterExportDialog(self.vault, REQUESTS, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.register_dialog = dialog
        dialog.open()

    def deadline_settings(self) -> None:
        """Country, region and time zone, as ``custos dsr settings`` sets them; the page is read again so the note
        and the requests recorded from now on follow."""
        if self.run_settings(DeadlineSettingsDialog(self.vault, self)):
            self._say("Deadline settings saved; requests recorded from now on are counted with them.")
            self.refresh()

    def new_request(self) -> None:
        created = self.run_intake(NewRequestDialog(self.register, self))
        if created:
            # Selected once the register is read again, as a notice's request is: the selection stayed on the
            # request selected before, and Act / Answer… next acted on that one, not the request just recorded.
            self.show_request(created)
            view = self.register.get(created)
            self._say(f"Recorded {created}; due {view.due.isoformat()}.")

    def verify(self) -> None:
        view, values = self._ask(lambda v: forms.verify_form(v, self.register.now(), self))
        if view and values:
            operator = login_name()
            self._change(partial(self.register.verify, view.id, values["status"], operator, values["means"],
                                 values["at"]), f"Identity verification recorded on {view.id}.")  # fmt: skip

    def extend(self) -> None:
        view, values = self._ask(lambda v: forms.extend_form(v, today_in(v.zone, self.register.now()), self))
        if view and values:
            operator = login_name()
            self._change(partial(self.register.extend, view.id, values["months"], values["reason"], values["told"],
                                 operator), f"{view.id} extended.")  # fmt: skip

    def task(self) -> None:
        view, values = self._ask(lambda v: forms.task_form(v, self))
        if view and values:
            operator = login_name()
            self._change(partial(self.register.record_task, view.id, values["done"], operator, values["right"]),
                         f"Task recorded on {view.id}.")  # fmt: skip

    def refuse(self) -> None:
        view, values = self._ask(lambda v: forms.refuse_form(v, self))
        if view and values:
            operator = login_name()
            self._change(partial(self.register.refuse, view.id, values["ground"], values["reason"], operator,
                                 values["right"]), f"Refusal recorded on {view.id}.")  # fmt: skip

    def _ask(self, make: Callable[[RequestView], forms.FormDialog]) -> tuple[RequestView | None, dict | None]:
        view = self._selected()
        if view is None:
            self._say("Select a request first.")
            return None, None
        return view, self.run_form(make(view))

    def act(self) -> None:
        view = self._selected()
        if view is None:
            return
        pending = {s.right for s in view.steps if s.state == "pending"}
        exports = bool(pending & set(model.EXPORT_RIGHTS))
        if "erasure" not in pending:
            self._act(view, exports, erase=False)
            return
        # What is erased where, before the passphrase is asked: as Identities' erasure shows it, never blind.
        self._say("Working out what the erasure would erase where…")
        submit(partial(erasure_preview, self.register, view.id),
               partial(self._erasure_previewed, view, exports), self._failed)  # fmt: skip

    def _erasure_previewed(self, view: RequestView, exports: bool, result: Preview) -> None:
        if result.found == 0:
            self._say("The matched identity is no longer in the mirror.")
            return
        chosen = self.run_form(forms.erasure_ground_form(self))  # the receipt states it: never a silent default
        if chosen is None:
            self._say("Nothing was erased.")
            return
        lines = "\n".join(f"• {where}: {what} ({count})" for where, what, count in preview_rows(result))
        question = (f"{whom(result)}\n\n{lines}\n\nGround: {GROUNDS[chosen['ground']]}.\n\nThis cannot be "
                    "undone: the deletions are verified and a receipt is issued.")  # fmt: skip
        if not self.confirm_erasure(self, question):
            self._say("Nothing was erased.")
            return
        self._act(view, exports, erase=True, ground=chosen["ground"])

    def _act(self, view: RequestView, exports: bool, erase: bool, ground: str = DEFAULT_GROUND) -> None:
        action = "erase this person here and at every application" if erase else "export this person's data"
        if self.reauthenticate is not None and not self.reauthenticate(self, action):
            self._say("Nothing was done.")
            return
        folder = self.choose_folder(self, "Write the subject export into folder") if exports else None
        if exports and folder is None:
            self._say("Nothing was done.")
            return
        operator = login_name()
        self._say("Working…")
        submit(partial(act, self.register, view.id, operator, folder, ground), self._acted, self._failed)

    def _acted(self, result: Acted) -> None:
        parts = [f"wrote {path.name}" for _kind, path, _sha in result.files]
        if result.erasure_id:
            parts.append(f"erasure request {result.erasure_id} started")
        self._say("Done: " + "; ".join(parts) + ".")
        self.refresh()

    def answer(self) -> None:
        view = self._selected()
        today = today_in(view.zone, self.register.now()) if view else None
        check = partial(dsr.left_to_complete, self.register, view.id) if view else None
        values = self.run_form(forms.answer_form(view, today, self, check)) if view and today else None
        folder = self.choose_folder(self, "Write the answer letter into folder") if values else None
        if view is None or values is None or folder is None:
            return
        sent = values["sent"] if values["mode"] == "sent" else None
        none_held = values.get("open_rights") == "none_held"
        operator = login_name()
        submit(partial(answer_request, self.register, view.id, operator, folder, sent, none_held), self._answered,
               self._failed)  # fmt: skip

    def _answered(self, result: Answer) -> None:
        names = ", ".join(path.name for path, _sha in result.files)
        sent = f" Answer sent {result.view.answered_on.isoformat()} recorded." if result.view.answered_on else ""
        self._say(f"Wrote {names}.{sent}")
        self.refresh()

    def match(self) -> None:
        view = self._selected()
        if view is not None and self.run_match(MatchDialog(self.register, view.id, self)):
            self._say(f"{view.id} matched to an identity.")
            self.refresh()

    def lift(self) -> None:
        """Art. 18(3): the form asks when and how the person was told before the lift; the register checks it."""
        view, values = self._ask(lambda v: forms.lift_form(v, self.register.now(), self))
        if view and values:
            operator = login_name()
            self._change(partial(self.register.lift_restriction, view.id, operator, values["informed_at"],
                                 values["informed_by"]),
                         f"Restriction lifted on {view.id}; the applications get the account as it is.")  # fmt: skip

    def close_request(self) -> None:
        view = self._selected()
        if view is not None:
            operator = login_name()
            self._change(partial(self.register.close, view.id, operator), f"{view.id} closed.")

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, dsr.RightToName):  # the register names the right; the form's field is the app's to name
            self._say(forms.right_to_name_words(exc))
            return
        self._say(user_message(exc, "The register could not be changed."))
