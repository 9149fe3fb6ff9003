"""Vault → Backup keys…: the backup key epochs from the app, as ``custos vault backup-keys`` lists, begins and
destroys them (decision 0067); a thin layer over app.services.backup_keys.

A DPO at a workstation has no terminal, and destroying an epoch is how a backup copy nobody can reach any more is put
beyond use (Art. 17, the ICO's "beyond use"). Destroying is irreversible: the passphrase is asked again first, as for
a backup, then a question that names the epoch and how many recorded backups it makes unopenable, with No as the
default. Only a retired epoch can be destroyed (the current one keys the next backup: begin a new epoch first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.services.backup_keys import Epoch, Epochs, EpochView, destroy, epochs, rotate, unlisted_note
from app.store.vault import Vault
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import user_message
from app.ui.times import local_minute
from app.ui.widgets import FittedLabel, MessageLabel, ask_yes_no, resize_within_screen
from app.ui.workers import NewestAnswer, submit

HEADERS = ("Epoch", "State", "Began", "Retired", "Destroyed", "Backups", "Last backup")
ABOUT = (
    "Each backup is encrypted under the key of the backup key epoch current when it was made. Destroying a retired "
    "epoch's key puts every backup made under it beyond use, by anyone, wherever its copies are; it cannot be "
    "undone. Only a retired epoch can be destroyed: begin a new epoch first. Times are in this computer's zone."
)
Confirm = Callable[[QWidget, str, str], bool]


def _when(moment: str | None) -> str:
    """An epoch's moment as the keys file holds it (ISO 8601 UTC, "…Z"), in this computer's zone."""
    return local_minute(datetime.fromisoformat(moment)) if moment else "-"


def row_texts(view: EpochView) -> tuple[str, ...]:
    epoch = view.epoch
    last = local_minute(view.last_backup) if view.last_backup else "-"
    return (str(epoch.n), epoch.state, _when(epoch.began), _when(epoch.retired), _when(epoch.destroyed),
            str(view.backups), last)  # fmt: skip


def summary_text(found: Epochs) -> str:
    """The lines under the list: no epoch yet, backups made before epochs (which destroying never reaches), and
    backups recorded under epochs the keys file does not hold."""
    lines = []
    if not found.epochs:
        first = "No backup key epoch yet: the first backup (Vault → Back up the vault…) begins one."
        lines.append("No backup key epoch is held here." if found.unlisted else first)
    if found.before_epochs:
        last = local_minute(found.last_before_epochs) if found.last_before_epochs else "an unknown day"
        lines.append(f"Backups made before key epochs: {found.before_epochs} (the last on {last}). They open with the "
                     "passphrase in force when they were made; destroying an epoch does not reach them.")  # fmt: skip
    else:
        lines.append("Backups made before key epochs: none recorded.")
    note = unlisted_note(found)
    if note:
        lines.append(note)
    return "\n".join(lines)


def confirmation_text(view: EpochView) -> str:
    n, count = view.epoch.n, view.backups
    if count == 0:
        made = "No backup is recorded under it; any copy made under it could never be opened again, by anyone."
    else:
        where = "its copies are" if count == 1 else "their copies are"
        backups = counted(count, "backup")
        made = f"The {backups} recorded under it can never be opened again, by anyone, wherever {where}."
    return f"Destroy backup key epoch {n}? {made} This cannot be undone."


class BackupKeysDialog(QDialog):
    def __init__(
        self,
        vault: Vault,
        reauthenticate: Reauthenticate,
        parent: QWidget | None = None,
        on_changed: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_changed``: called once an epoch was begun or destroyed (the Overview reads its Backups line again:
        the last backup's epoch may just have been destroyed)."""
        super().__init__(parent)
        self.on_changed = on_changed
        self.setWindowTitle("Backup keys")
        self.vault, self.reauthenticate = vault, reauthenticate
        self.confirm: Confirm = ask_yes_no
        self.views: list[EpochView] = []
        self._reads = NewestAnswer(self, self._listed, self._unread)  # a read begun before a change never wins
        self.table = _table()
        self.table.itemSelectionChanged.connect(self._enable)
        self.summary = FittedLabel("Reading the backup key epochs…")
        self.message = MessageLabel()
        self.message.setAccessibleName("Outcome of the last action")
        self.begin_button = QPushButton("&Begin a new epoch")
        self.begin_button.setToolTip("Retire the current epoch: the next backup is made under the new one")
        self.begin_button.clicked.connect(self.begin_epoch)
        self.destroy_button = QPushButton("&Destroy epoch…")
        self.destroy_button.setToolTip("Only a retired epoch: its backups can never be opened again")
        self.destroy_button.clicked.connect(self.destroy_selected)
        self.close_button = QPushButton("&Close")
        self.close_button.clicked.connect(self.accept)
        for button in (self.begin_button, self.destroy_button):
            button.setAutoDefault(False)  # Enter in the list never begins or destroys anything
        self.close_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.begin_button)
        buttons.addWidget(self.destroy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(FittedLabel(ABOUT))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.busy = False
        resize_within_screen(self, 1000, 440)
        self._enable()
        self.refresh()

    # -- reading -------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        vault = self.vault
        self._reads.submit(lambda: epochs(vault))

    def _listed(self, found: Epochs) -> None:
        chosen = self.selected()
        self.views = found.epochs
        self.table.setRowCount(len(self.views))
        for row, view in enumerate(self.views):
            for column, text in enumerate(row_texts(view)):
                item = QTableWidgetItem(text)
                if column in (0, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.summary.setText(summary_text(found))
        numbers = [view.epoch.n for view in self.views]
        if chosen is not None and chosen.epoch.n in numbers:
            self.table.selectRow(numbers.index(chosen.epoch.n))
        elif self.views:
            self.table.selectRow(len(self.views) - 1)  # the current epoch, the last listed
        self._enable()

    def _unread(self, exc: Exception) -> None:
        """The list could not be read (a damaged keys file, the vault closed): nothing listed is left standing as if
        it were current, and the reason is said below."""
        self.views = []
        self.table.setRowCount(0)
        self.summary.setText("The backup key epochs could not be listed.")
        self._failed(exc)

    def selected(self) -> EpochView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.views[rows[0].row()] if rows and rows[0].row() < len(self.views) else None

    def _enable(self) -> None:
        view = self.selected()
        self.begin_button.setEnabled(not self.busy)
        self.destroy_button.setEnabled(not self.busy and view is not None and view.epoch.state == "retired")

    # -- acting --------------------------------------------------------------------------------------------
    def begin_epoch(self) -> None:
        if self.busy:
            return
        vault = self.vault
        self._start("Beginning a new backup key epoch…")
        submit(lambda: rotate(vault), self._begun, self._failed)

    def _begun(self, result: tuple[Epoch, Epoch | None]) -> None:
        begun, retired = result
        text = f"Backup key epoch {begun.n} began; the next backup is made under it."
        if retired is not None:
            text = (f"Backup key epoch {begun.n} began; epoch {retired.n} is retired: its backups open until it is "
                    "destroyed. Recorded on the audit trail.")  # fmt: skip
        self._finish(text)

    def destroy_selected(self) -> None:
        view = self.selected()
        if self.busy or view is None or view.epoch.state != "retired":
            return  # the current epoch keys the next backup; a destroyed one has nothing left to destroy
        n = view.epoch.n
        if not self.reauthenticate(self, f"destroy backup key epoch {n}"):
            return
        if not self.confirm(self, "Destroy a backup key epoch", confirmation_text(view)):
            self.message.setText("Nothing destroyed.")
            return
        vault = self.vault
        self._start(f"Destroying backup key epoch {n}…")
        submit(lambda: destroy(vault, n), self._destroyed, self._failed)

    def _destroyed(self, gone: EpochView) -> None:
        self._finish(f"Backup key epoch {gone.epoch.n} destroyed: {counted(gone.backups, 'backup')} made under it "
                     "can no longer be opened, by anyone; recorded on the audit trail.")  # fmt: skip

    def _start(self, text: str) -> None:
        self.busy = True
        self.message.setText(text)
        self._enable()

    def _finish(self, text: str) -> None:
        self.busy = False
        self.message.setText(text)
        self.refresh()
        self.on_changed()

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self.message.setText(user_message(exc, "The backup key epochs could not be read or changed."))
        self._enable()


def _table() -> QTableWidget:
    table = QTableWidget(0, len(HEADERS))
    table.setHorizontalHeaderLabels(list(HEADERS))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # Tab moves on to the buttons
    table.setWordWrap(False)  # a narrow dialog scrolls sideways rather than break a time from its zone
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setAccessibleName("Backup key epochs")
    counted_header = table.horizontalHeaderItem(HEADERS.index("Backups"))
    if counted_header is not None:  # set by setHorizontalHeaderLabels
        counted_header.setToolTip("Backups recorded on the audit trail under the epoch (a file copied by other "
                                  "means is not counted)")  # fmt: skip
    return table


def open_backup_keys(
    vault: Vault, reauthenticate: Reauthenticate, parent: QWidget | None, on_changed: Callable[[], None]
) -> BackupKeysDialog:
    dialog = BackupKeysDialog(vault, reauthenticate, parent, on_changed)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
