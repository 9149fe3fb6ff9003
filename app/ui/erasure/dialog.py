"""Erase subjects from the app (Art. 17, with Art. 19 notification of every recipient).

Three steps in one dialog: what will be erased where (a preview computed in a worker), a confirmation the
operator types and the passphrase again, then the request's progress per target, polled while the dialog is
open. Closing the dialog never cancels anything: the request is persisted and the background worker carries
on; its status is in `custos erase status` and here when reopened.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.events import EventBus
from app.core.wording import counted
from app.services import erasure
from app.services.erasure import (
    GROUNDS,
    HELD,
    Preview,
    ReceiptFiles,
    RequestStatus,
    export_receipt,
    preview,
    progress,
    report_lines,
)
from app.store.vault import Vault
from app.ui.erasure.lines import ATTEST_IN_HISTORY, PREVIEW_HEADERS, STATUS_HEADERS, detail, preview_rows, where
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.widgets import documents_dir, resize_within_screen
from app.ui.workers import submit

POLL_MS = 1000
AUTOMATIC_GROUNDS = ("retention", "replay")  # chosen by Custos itself, never by an operator here
ChooseFolder = Callable[[QWidget], Path | None]


def choose_receipt_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Save the erasure receipt into folder", documents_dir())
    return Path(folder) if folder else None


def whom(result: Preview) -> str:
    """The person (or people) by display name and userName, so the operator sees whom they erase."""
    if not result.people:
        return "None of the selected subjects is in the mirror any more."
    shown = [f"{name or '(no display name)'} ({user})" for name, user in result.people[:5]]
    more = f" and {len(result.people) - 5} more" if len(result.people) > 5 else ""
    return "Erasing: " + ", ".join(shown) + more + "."


def outcome(status: RequestStatus) -> str:
    """A closed request in one sentence. Custos' own erasure can be complete while the identity provider still
    holds the person (the source line does not keep a request open): that is not "erased everywhere"."""
    if not status.complete:
        return "closed with exceptions (see each application)."
    if status.source is not None and status.source.state in (HELD, "mixed"):
        whom = "the person" if status.subjects == 1 else f"some of the {status.subjects} subjects"
        return (f"erased here and at every application, but the identity provider still holds {whom}: remove or "
                f"block them there, {ATTEST_IN_HISTORY}.")  # fmt: skip
    return "erased everywhere."


def confirmation_phrase(count: int) -> str:
    return f"ERASE {count}"


class ErasureDialog(QDialog):
    def __init__(
        self,
        vault: Vault,
        subject_ids: list[str],
        reauthenticate: Reauthenticate | None,
        bus: EventBus | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Erase personal data")
        self.vault = vault
        self.subject_ids = list(dict.fromkeys(subject_ids))
        self.reauthenticate = reauthenticate
        self.bus = bus
        self.choose_folder: ChooseFolder = choose_receipt_folder
        self.request_id: str | None = None
        self.status: RequestStatus | None = None

        self.summary = plain_label("Working out what will be erased where…", wrap=True)
        self.who = plain_label(wrap=True)
        self.who.setAccessibleName("Whom this erases")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(list(PREVIEW_HEADERS))
        self.table.verticalHeader().hide()
        self._stretch(1)  # every column visible: "What happens" wraps
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.ground = QComboBox()
        for key, text in GROUNDS.items():
            if key not in AUTOMATIC_GROUNDS:
                self.ground.addItem(text, key)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reference of the request, e.g. a ticket number (no personal data)")
        self.confirm_text = QLineEdit()
        self.confirm_text.setAccessibleName("Type the confirmation")
        self.erase_button = QPushButton("&Erase")
        self.erase_button.setEnabled(False)
        self.erase_button.clicked.connect(self.erase)
        self.confirm_text.textChanged.connect(self._confirm_changed)
        self.receipt_button = QPushButton("Export &receipt…")
        self.receipt_button.setEnabled(False)
        self.receipt_button.clicked.connect(self.save_receipt)
        self.close_button = QPushButton("&Close")
        self.close_button.clicked.connect(self.accept)
        self.message = plain_label(wrap=True)

        form = QFormLayout()
        form.addRow("Legal &ground", self.ground)  # Alt+E, Alt+R and Alt+C are the buttons'
        form.addRow("Re&ference", self.reason)
        self.confirm_label = plain_label()
        self.confirm_label.setBuddy(self.confirm_text)
        form.addRow(self.confirm_label, self.confirm_text)
        buttons = QHBoxLayout()
        buttons.addWidget(self.receipt_button)
        buttons.addStretch(1)
        buttons.addWidget(self.erase_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        resize_within_screen(self, 760, 460)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        vault_, ids = self.vault, self.subject_ids
        submit(lambda: preview(vault_, ids), self._previewed, self._failed)

    # -- step 1: preview -----------------------------------------------------------------------------------
    def _previewed(self, result: Preview) -> None:
        phrase = confirmation_phrase(result.found)
        self.who.setText(whom(result))
        self.confirm_label.setText(f"&Type {phrase} to confirm")
        self.summary.setText(
            f"{result.found} of {counted(result.subjects, 'selected subject')} {'is' if result.found == 1 else 'are'} "
            "in the mirror. They are deleted here at "
            "once (secure delete, WAL truncated, pseudonym key destroyed) and at every application that holds them; "
            "each deletion is verified by reading back, and a signed receipt is issued."
        )
        rows = preview_rows(result)
        self._fill(rows)
        self._expected = phrase
        self._found = result.found

    def _confirm_changed(self, text: str) -> None:
        self.erase_button.setEnabled(
            self.request_id is None and getattr(self, "_found", 0) > 0 and text.strip() == self._expected
        )

    # -- step 2: erase -------------------------------------------------------------------------------------
    def erase(self) -> None:
        if self.request_id is not None or self.confirm_text.text().strip() != getattr(self, "_expected", None):
            return
        if self.reauthenticate is not None and not self.reauthenticate(self, "erase these subjects"):
            self.message.setText("Nothing was erased.")
            return
        for made in (self.erase_button, self.confirm_text, self.ground, self.reason):
            made.setEnabled(False)  # the request is made with these: changing them now would change nothing
        self.message.setText("Erasing locally…")
        ground, reason = str(self.ground.currentData()), self.reason.text().strip() or None
        vault, ids, bus, operator = self.vault, self.subject_ids, self.bus, login_name()
        submit(lambda: erasure.request(vault, ids, ground, operator, reason, bus=bus), self._requested,
               self._request_failed)  # fmt: skip

    def _request_failed(self, exc: Exception) -> None:
        """Nothing was made: the operator may correct and try again."""
        for control in (self.confirm_text, self.ground, self.reason):
            control.setEnabled(True)
        self._confirm_changed(self.confirm_text.text())
        self._failed(exc)

    def _requested(self, request_id: str) -> None:
        self.request_id = request_id
        self.message.setText(f"Request {request_id}: erased locally; the applications are being asked now.")
        self.timer.start()
        self._poll()

    # -- step 3: progress ----------------------------------------------------------------------------------
    def _poll(self) -> None:
        if self.request_id is None:
            return
        vault, request_id = self.vault, self.request_id
        submit(lambda: progress(vault, request_id), self._progressed, self._failed)

    def _progressed(self, status: RequestStatus) -> None:
        self.status = status
        self.table.setHorizontalHeaderLabels(list(STATUS_HEADERS))  # from "what happens" to what happened
        self._stretch(2)  # the detail takes the width
        lines = report_lines(status)
        self._fill([(where(line.target), line.state, detail(line, attest_here=False)) for line in lines])
        if status.state == "closed":
            self.timer.stop()
            self.message.setText(f"Request {status.id}: {outcome(status)} Export the signed receipt for the DPO.")
        self.receipt_button.setEnabled(True)

    def save_receipt(self) -> None:
        if self.request_id is None:
            return
        folder = self.choose_folder(self)
        if folder is None:
            return
        vault, request_id = self.vault, self.request_id
        submit(lambda: export_receipt(vault, request_id, folder), self._saved, self._failed)

    def _saved(self, files: ReceiptFiles) -> None:
        self.message.setText(
            f"Receipt written:\n{files.json_path} (SHA-256 {files.json_sha256})\n{files.pdf_path} (SHA-256 "
            f"{files.pdf_sha256})\nPublic key to verify it: {files.public_key_path}"
        )

    # -- shared --------------------------------------------------------------------------------------------
    def _stretch(self, stretched: int) -> None:
        header = self.table.horizontalHeader()
        for column in range(self.table.columnCount()):
            fit = QHeaderView.ResizeMode.Stretch if column == stretched else QHeaderView.ResizeMode.ResizeToContents
            header.setSectionResizeMode(column, fit)

    def _fill(self, rows: list[tuple[str, str, str]]) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.resizeRowsToContents()  # a long "what happens" wraps in its stretched column

    def _failed(self, exc: Exception) -> None:
        self.message.setText(user_message(exc, "The erasure could not be carried out; nothing was half-done."))

    def done(self, result: int) -> None:
        self.timer.stop()  # the request carries on in the background; only this view stops polling
        super().done(result)
