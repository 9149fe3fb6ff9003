"""Erasure history in the app, as ``custos erase status|retry|attest|receipt``: every request with its state, and
for the selected one each line (the mirror, each target, each recipient without a SCIM target (Art. 19, by hand),
the identity provider) with what can be done from here: retry a step whose cause was fixed, attest what a person
did (at a manual target, a recipient, the identity provider), export the signed receipt.

Subjects are never named here (a closed request has nothing left to name): ids, counts and target names only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.services.erasure import (
    History,
    ReceiptFiles,
    RequestStatus,
    TargetLine,
    attest,
    can_attest,
    can_retry,
    export_receipt,
    history,
    progress,
    report_lines,
    retry,
)
from app.store.vault import Vault
from app.ui.erasure.dialog import ChooseFolder, choose_receipt_folder
from app.ui.erasure.lines import STATUS_HEADERS, detail, where
from app.ui.incidents.fields import StepDialog, prompt_box, text_of
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.times import local_time
from app.ui.widgets import resize_within_screen
from app.ui.workers import NewestAnswer, submit

POLL_MS = 2000
# The last column counts Custos' steps at the targets and at the recipients erased by hand (one per person and
# place, as the receipt lists them under each subject's "targets"), not the lines shown below it: the mirror is
# erased at once and the identity provider is not a step (decision 0020). "Steps" alone read as every place.
REQUEST_HEADERS = ("Request", "Created", "State", "Ground", "Steps at targets")
STEPS_TIP = (
    "Steps at the SCIM targets and at the recipients erased by hand, one per person and place, as the "
    "receipt lists them; the mirror and the identity provider are not counted"
)
AskNote = Callable[[QWidget, str], str | None]


class NoteDialog(StepDialog):
    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__("Attest an erasure done by hand", f"{what}: say what was done there, by whom, when, and how "
                         "it was checked. The note goes on the receipt; it must not name the person.",
                         parent)  # fmt: skip
        self.note = prompt_box("e.g. Deleted by J. Doe at the payroll bureau on 3 Dec, checked in their admin UI")
        self.form.addRow("&Note", self.note)
        self.note.textChanged.connect(self._check)
        self._check()

    def ready(self) -> bool:
        return bool(text_of(self.note))  # an empty note would be dropped: nothing attested, nothing said


def ask_note(parent: QWidget, what: str) -> str | None:
    dialog = NoteDialog(what, parent)
    return text_of(dialog.note) if dialog.exec() == QDialog.DialogCode.Accepted else None


def load_requests(vault: Vault) -> History:
    return history(vault, limit=500)


def summary_text(listed: History) -> str:
    """The line above the list. "0 still open" alone reads as "all done" while a person is still held at the
    identity provider (decision 0020: the source is not a step, so it keeps no request open): count those too."""
    if not listed.requests:
        return "No erasure request yet. To erase a person: Identities, right-click the user, Erase…."
    held = (f"{listed.held_at_source} still held at the identity provider (remove or block the person there, then "
            "attest it)" if listed.held_at_source else "none still held at the identity provider")  # fmt: skip
    requests = counted(len(listed.requests), "erasure request")
    return (f"{requests}, {listed.opened} still open, {held}. Select one to see each target, recipient and the "
            "identity provider.")  # fmt: skip


def _table(headers: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # Tab moves on to the next table or button
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setAccessibleName(name)
    return table


class ErasureHistoryDialog(QDialog):
    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Erasure history")
        self.vault = vault
        self._reads = NewestAnswer(self, self._listed, self._failed)  # a poll begun before an action never wins
        self.ask_note: AskNote = ask_note
        self.choose_folder: ChooseFolder = choose_receipt_folder
        self.requests: list[tuple[str, datetime, str, str, int]] = []
        self.status: RequestStatus | None = None
        self.lines: list[TargetLine] = []
        self.summary = plain_label("Loading…", wrap=True)
        self.request_table = _table(REQUEST_HEADERS, "Erasure requests")
        steps_header = self.request_table.horizontalHeaderItem(len(REQUEST_HEADERS) - 1)
        if steps_header is not None:  # set by setHorizontalHeaderLabels
            steps_header.setToolTip(STEPS_TIP)
        self.line_table = _table(STATUS_HEADERS, "Where the selected request stands")
        self.request_table.itemSelectionChanged.connect(self._request_chosen)
        self.line_table.itemSelectionChanged.connect(self._enable)
        self.retry_button = QPushButton("&Retry")
        self.retry_button.setToolTip("Queue again the steps that needed an operator, once the cause is fixed")
        self.retry_button.clicked.connect(self.retry_selected)
        self.attest_button = QPushButton("&Attest…")
        self.attest_button.clicked.connect(self.attest_selected)
        self.receipt_button = QPushButton("Export r&eceipt…")
        self.receipt_button.clicked.connect(self.save_receipt)
        self.close_button = QPushButton("&Close")
        self.close_button.clicked.connect(self.accept)
        self.message = plain_label(wrap=True)
        self.message.setAccessibleName("Outcome of the last action")
        buttons = QHBoxLayout()
        for button in (self.retry_button, self.attest_button, self.receipt_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        splitter = QSplitter()
        splitter.setOrientation(splitter.orientation().Vertical)
        splitter.addWidget(self.request_table)
        splitter.addWidget(self.line_table)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        resize_within_screen(self, 900, 480)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._enable()
        self.refresh()

    # -- reading -------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.vault.is_open:
            vault = self.vault
            self._reads.submit(lambda: load_requests(vault))

    def _listed(self, listed: History) -> None:
        chosen = self.selected_request()
        requests = self.requests = listed.requests
        self.request_table.setRowCount(len(requests))
        for row, (request_id, created, state, ground, steps) in enumerate(requests):
            for column, value in enumerate((request_id, local_time(created), state, ground, str(steps))):
                self.request_table.setItem(row, column, QTableWidgetItem(value))
        self.summary.setText(summary_text(listed))
        ids = [r[0] for r in requests]
        if chosen in ids:
            self.request_table.selectRow(ids.index(chosen))
            self._load_status(chosen)
        elif requests:
            self.request_table.selectRow(0)

    def selected_request(self) -> str | None:
        rows = self.request_table.selectionModel().selectedRows()
        return self.requests[rows[0].row()][0] if rows and rows[0].row() < len(self.requests) else None

    def selected_line(self) -> TargetLine | None:
        rows = self.line_table.selectionModel().selectedRows()
        return self.lines[rows[0].row()] if rows and rows[0].row() < len(self.lines) else None

    def _request_chosen(self) -> None:
        request_id = self.selected_request()
        if request_id is not None:
            self._load_status(request_id)
        self._enable()

    def _load_status(self, request_id: str) -> None:
        vault = self.vault
        submit(lambda: progress(vault, request_id), self._status_loaded, self._failed)

    def _status_loaded(self, status: RequestStatus) -> None:
        if status.id != self.selected_request():
            return  # an older answer for a request no longer selected
        chosen = self.selected_line()
        self.status = status
        self.lines = report_lines(status)
        self.line_table.setRowCount(len(self.lines))
        for row, line in enumerate(self.lines):
            for column, value in enumerate((where(line.target), line.state, detail(line))):
                self.line_table.setItem(row, column, QTableWidgetItem(value))
        targets = [line.target for line in self.lines]
        if chosen is not None and chosen.target in targets:
            self.line_table.selectRow(targets.index(chosen.target))
        self._enable()

    def _enable(self) -> None:
        line = self.selected_line()
        self.retry_button.setEnabled(line is not None and can_retry(line))
        self.attest_button.setEnabled(line is not None and can_attest(line))
        self.receipt_button.setEnabled(self.status is not None)

    # -- acting --------------------------------------------------------------------------------------------
    def retry_selected(self) -> None:
        line, request_id = self.selected_line(), self.selected_request()
        if line is None or request_id is None or not can_retry(line):
            return
        vault, target, operator = self.vault, line.target, login_name()
        done = f"again at {where(target)}; the erasure worker carries on with them"
        submit(lambda: retry(vault, request_id, target, operator),
               lambda n: self._acted(f"Queued {counted(n, 'step')} {done}."),
               self._failed)  # fmt: skip

    def attest_selected(self) -> None:
        line, request_id = self.selected_line(), self.selected_request()
        if line is None or request_id is None or not can_attest(line):
            return
        note = self.ask_note(self, where(line.target))
        if not note:
            return
        vault, target, operator = self.vault, line.target, login_name()
        source = target == "source"
        noun, done = (("subject", "removed or blocked at the identity provider") if source
                      else ("step", f"at {where(target)}"))  # fmt: skip
        submit(lambda: attest(vault, request_id, None if source else target, operator, note, source=source),
               lambda n: self._acted(f"Attested {counted(n, noun)} {done}."), self._failed)  # fmt: skip

    def save_receipt(self) -> None:
        request_id = self.selected_request()
        folder = self.choose_folder(self) if request_id else None
        if request_id is None or folder is None:
            return
        vault = self.vault
        submit(lambda: export_receipt(vault, request_id, folder), self._saved, self._failed)

    def _saved(self, files: ReceiptFiles) -> None:
        self.message.setText(f"Receipt written: {files.json_path} (SHA-256 {files.json_sha256}), {files.pdf_path}; "
                             f"public key to verify it: {files.public_key_path}")  # fmt: skip

    def _acted(self, text: str) -> None:
        self.message.setText(text)
        self.refresh()

    def _failed(self, exc: Exception) -> None:
        self.message.setText(user_message(exc, "The erasure request could not be read or changed."))

    def done(self, result: int) -> None:
        self.timer.stop()
        super().done(result)


def open_history(vault: Vault, parent: QWidget | None) -> ErasureHistoryDialog:
    dialog = ErasureHistoryDialog(vault, parent)
    dialog.show()
    return dialog
