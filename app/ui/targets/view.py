"""The Targets page: each downstream application's health and queue, the selected one's initial-sync progress and
its mapping beside the catalogue; add, edit, test, reconcile (with repair) and remove, through the Qt-free
service the CLI uses (app/services/targets.py).

All reads and changes run in workers (app/ui/workers.py); the page refreshes every few seconds while visible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtGui import QHideEvent, QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.services import targets as service
from app.services.policy import PolicyInForce
from app.services.targets import Policy, SyncProgress, TargetConfig, TargetHealth
from app.store.vault import Vault
from app.ui.page_bound import bind_to_page
from app.ui.policy.common import user_message
from app.ui.targets.dialog import TargetDialog
from app.ui.targets.reconcile_dialog import ReconcileDialog
from app.ui.times import local_clock, local_time
from app.ui.workers import submit

REFRESH_MS = 3000
ATTENTION = ("needs attention", "not provisioned", "incomplete", "drift")
HEADERS = ("Target", "State", "Recipient", "Subjects held", "Queued", "Failed", "Sync progress", "Last success",
           "Verified", "Last error", "URL")  # fmt: skip
LAST_ERROR = HEADERS.index("Last error")
_NONE_SELECTED = "Select a target to see what it receives."


@dataclass(frozen=True)
class Snapshot:
    targets: list[TargetHealth]
    policy: Policy


def load(vault: Vault, policy: PolicyInForce) -> Snapshot:
    return Snapshot(*service.states(vault, policy))


RunDialog = Callable[[QDialog], bool]
Confirm = Callable[[QWidget, str, str], bool]


def run_dialog(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


def confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)  # fmt: skip
    return answer == QMessageBox.StandardButton.Yes


def sync_text(target: TargetHealth) -> str:
    """The selected target's initial sync (or catch-up) in words, true to the outbox and what it holds."""
    sync = target.sync
    if sync is None:  # the recipient left the policy: what was sent there before stays there (said, not implied)
        kept = (f" It still holds {counted(target.held, 'subject')} provisioned by Custos: nothing more is sent to "
                "them, and nothing there is deleted." if target.held else "")  # fmt: skip
        return (target.problem or "Not provisioned.") + kept
    return f"{_bookkeeping_text(target, sync)} {target.verification.sentence()}"


def _bookkeeping_text(target: TargetHealth, sync: SyncProgress) -> str:
    """What Custos's own queue and links say; the check against the target follows it (decision 0036)."""
    if sync.failed:
        return f"{counted(sync.failed, 'change')} failed: see Last error, fix the cause, then reconcile with repair."
    if sync.pending:
        queued = counted(sync.pending, "change")
        return f"Syncing: {sync.held:,} of {sync.in_scope:,} in-scope users held; {queued} queued."
    if sync.missing:
        return (f"Incomplete: {counted(sync.missing, 'in-scope user')} not held there and nothing queued. "
                "Reconcile with repair to send them.")  # fmt: skip
    return f"{target.state.capitalize()}: all {sync.in_scope:,} in-scope users held, nothing queued."


def _verified(target: TargetHealth) -> str:
    """When the target itself was last checked (a reconcile), in local time."""
    last = target.verification.last
    return local_time(last.started) if last is not None else "never"


def _row(values: list[str]) -> list[QStandardItem]:
    items = []
    for value in values:
        item = QStandardItem(value)
        item.setEditable(False)
        item.setToolTip(value)  # whole where the column cuts it (Last error takes only the room left)
        items.append(item)
    return items


class TargetsPage(QWidget):
    def __init__(self, vault: Vault, policy: PolicyInForce, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.policy = policy
        self.snapshot: Snapshot | None = None
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.run_dialog: RunDialog = run_dialog
        self.confirm: Confirm = confirm
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.add_button = self._button("&Add a target…", self.add_target)
        self.edit_button = self._button("&Edit…", self.edit_target)
        self.test_button = self._button("&Test connection", self.test_target)
        self.reconcile_button = self._button("Re&concile…", self.reconcile_target)
        self.remove_button = self._button("Re&move…", self.remove_target)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Initial sync of the selected target")
        self.progress.setTextVisible(True)
        self.progress_text = QLabel("")
        self.progress_text.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Outcome of the last action")
        self.table = QTableView()
        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The error takes the room the others leave: as wide as its sentence, it pushed the URL out of view
        # behind a horizontal scroll bar at 1280×800. Cut, it is whole in its tooltip.
        self.table.horizontalHeader().setSectionResizeMode(LAST_ERROR, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Targets")
        self.table.setWordWrap(False)  # "in sync" on one line, never "in / sync"
        self.table.setTabKeyNavigation(False)  # Tab moves on to the mapping and the buttons
        self.table.verticalHeader().hide()
        self.mapping_title = QLabel(_NONE_SELECTED)
        self.mapping = QTableView()
        self.mapping.setTabKeyNavigation(False)  # read-only: Tab leaves the table (it walked every cell)
        self.mapping_model = QStandardItemModel(0, 3, self)
        self.mapping_model.setHorizontalHeaderLabels(["Attribute in the agreed schema", "Data category", "Sent"])
        self.mapping.setModel(self.mapping_model)
        self.mapping.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.mapping.setAccessibleName("Attributes sent to the selected target")
        self.table.selectionModel().selectionChanged.connect(self._show_mapping)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.progress_text)
        lower_layout.addWidget(self.progress)
        lower_layout.addWidget(self.mapping_title)
        lower_layout.addWidget(self.mapping)
        splitter = QSplitter()
        splitter.setOrientation(splitter.orientation().Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        actions = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.test_button, self.reconcile_button,
                       self.remove_button):  # fmt: skip
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)
        self._enable()
        self._show_progress(None)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._loading = False
        # A refresh asked for while a read is under way (after an action): that read may predate the action, so
        # another follows it. It was dropped, and the page showed the state before the action until the timer.
        self._again = False

    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        return button

    def _enable(self) -> None:
        chosen = self._selected_name() is not None
        for button in (self.edit_button, self.test_button, self.reconcile_button, self.remove_button):
            button.setEnabled(chosen)

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        if not self.vault.is_open:
            return
        if self._loading:
            self._again = True
            return
        self._loading, self._again = True, False
        submit(lambda: load(self.vault, self.policy), self._loaded, self._failed)

    def _read_over(self) -> None:
        self._loading = False
        if self._again:
            self.refresh()

    def _failed(self, _exc: Exception) -> None:
        self._read_over()
        self.summary.setText("The targets could not be read; the vault may be closed.")

    def _loaded(self, snapshot: Snapshot) -> None:
        self._read_over()
        self.snapshot = snapshot
        selected = self._selected_name()
        self.model.removeRows(0, self.model.rowCount())
        for target in snapshot.targets:
            self.model.appendRow(
                _row(
                    [
                        target.config.name,
                        target.state,
                        target.config.recipient_id,
                        f"{target.held:,}",
                        f"{target.pending:,}",
                        f"{target.failed:,}",
                        target.progress,
                        local_time(target.last_success) if target.last_success else "never",
                        _verified(target),
                        target.problem or target.last_error or "",
                        target.config.base_url,
                    ]
                )
            )
        for column in range(self.model.columnCount()):
            if column != LAST_ERROR:  # sized to its text, the error would take its sentence's width, not the rest
                self.table.resizeColumnToContents(column)
        queued = sum(t.pending for t in snapshot.targets)
        failing = sum(1 for t in snapshot.targets if t.state in ATTENTION)
        syncing = sum(1 for t in snapshot.targets if t.state == "catching up")
        # By the check's verdict, not the state: a target catching up or needing attention was not verified since
        # its last change either, and "0 not verified" sat beside a Verified column reading "never".
        unverified = sum(1 for t in snapshot.targets if t.verification.verdict == "not verified")
        self.summary.setText(
            f"{counted(len(snapshot.targets), 'target')}; {counted(queued, 'change')} queued; {syncing} syncing; "
            f"{failing} need attention; {unverified} not verified since the last change."
            + (
                ""
                if snapshot.targets
                else " Add a target to provision an application with what its policy recipient receives."
            )
        )
        if selected:
            for row in range(self.model.rowCount()):
                if self.model.item(row, 0).text() == selected:
                    self.table.selectRow(row)
        elif self.model.rowCount():
            self.table.selectRow(0)  # show what the first target receives without a click

    def _selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item(rows[0].row(), 0).text() if rows else None

    def _selected_target(self) -> TargetHealth | None:
        name, snapshot = self._selected_name(), self.snapshot
        if snapshot is None or name is None:
            return None
        return next((t for t in snapshot.targets if t.config.name == name), None)

    def _show_progress(self, target: TargetHealth | None) -> None:
        sync = target.sync if target else None
        self.progress.setVisible(sync is not None and sync.in_scope > 0)
        if sync is not None:
            self.progress.setRange(0, max(sync.in_scope, 1))
            self.progress.setValue(min(sync.held, sync.in_scope))
            self.progress.setFormat(f"{sync.held:,} of {sync.in_scope:,} in-scope users held")
        self.progress_text.setText(sync_text(target) if target else "")

    def _show_mapping(self) -> None:
        self._enable()
        target = self._selected_target()
        self._show_progress(target)
        snapshot = self.snapshot
        self.mapping_model.removeRows(0, self.mapping_model.rowCount())
        if snapshot is None or target is None:
            self.mapping_title.setText(_NONE_SELECTED)  # a removed target's mapping title must not stay
            return
        name = target.config.name
        sent = set(target.sends)
        self.mapping_title.setText(f"What {name} receives (recipient '{target.config.recipient_id}'):")
        for rule in snapshot.policy.attributes:
            category = snapshot.policy.category(rule.category)
            key = f"{rule.resource_type} {rule.path}"
            narrower = [s for s in sent if s.startswith(key + ".")]
            mark = (
                "yes"
                if key in sent
                else ("partly: " + ", ".join(s.split(" ", 1)[1] for s in narrower) if narrower else "no")
            )
            shown = f"{rule.resource_type} {rule.label}"  # with its type filter, if any
            self.mapping_model.appendRow(_row([shown, category.name if category else rule.category, mark]))

    # -- actions -------------------------------------------------------------------------------------------
    def _policy(self) -> Policy:
        return self.snapshot.policy if self.snapshot else self.policy.get().policy

    def _say(self, text: str) -> None:
        """An action's outcome, with the local time it was said: the line stays while the targets' rows refresh
        under it, so 'Added app1 … queued' must read as a past event, not as the state now."""
        self.message.setText(f"{text} ({local_clock(self.now())})")

    def _done(self, text: str) -> Callable[[object], None]:
        def show(_result: object) -> None:
            self._say(text)
            self.refresh()

        return show

    def _failed_action(self, exc: Exception) -> None:
        self._say(user_message(exc, "The target could not be changed."))

    def add_target(self) -> None:
        policy = self._policy()
        if not policy.recipients:
            self._say("The policy in force names no recipient: add one (with the attributes it receives) "
                                 "on the Policy page first.")  # fmt: skip
            return
        dialog = TargetDialog(policy, None, self)
        if not self.run_dialog(dialog):
            return
        config, vault = dialog.config(), self.vault
        self._say(f"Adding {config.name}…")

        def added(result: tuple[TargetConfig, list[str]]) -> None:
            self._done(f"Added {result[0].name}: it receives {', '.join(result[1])}. Everyone in scope is queued "
                       "for it (its initial sync).")(result)  # fmt: skip

        submit(lambda: service.add(vault, config), added, self._failed_action)

    def edit_target(self) -> None:
        target = self._selected_target()
        if target is None:
            return
        dialog = TargetDialog(self._policy(), target.config, self)
        if not self.run_dialog(dialog):
            return
        changes, vault, name = dialog.changes(), self.vault, target.config.name
        if not changes:
            self._say(f"Nothing changed for {name}.")
            return
        fields = ", ".join(sorted("credential" if k == "secret" else k for k in changes))
        submit(lambda: service.change(vault, name, **changes), self._done(f"Changed {name}: {fields}."),
               self._failed_action)  # fmt: skip

    def test_target(self) -> None:
        target = self._selected_target()
        if target is None:
            return
        vault, policy, name = self.vault, self.policy, target.config.name
        self._say(f"Connecting to {name}…")
        submit(lambda: service.check_named(vault, policy, name), self._tested, self._failed_action)

    def _tested(self, check: service.ConnectionCheck) -> None:
        text = check.headline()
        if check.reached:
            missing = check.unsupported
            text += (f". NOT SUPPORTED there: {', '.join(missing)}." if missing
                     else ". Every mapped attribute is supported.")  # fmt: skip
        self._say(text)

    def reconcile_target(self) -> ReconcileDialog | None:
        target = self._selected_target()
        if target is None:
            return None
        dialog = ReconcileDialog(self.vault, self.policy, target.config.name, self)
        bound = bind_to_page(dialog, self)  # the report stays with this page, never over another one
        dialog.finished.connect(lambda _code: bound.release())
        dialog.finished.connect(lambda _code: self.refresh())
        dialog.show()
        return dialog

    def remove_target(self) -> None:
        target = self._selected_target()
        if target is None:
            return
        name = target.config.name
        held = (
            f"{name} still holds {counted(target.held, 'subject')} provisioned by Custos: they stay there, and stop "
            "receiving updates; an erasure of one of them will ask you to tell the recipient yourself and attest it. "
            "Erase or reconcile first if they must go. "
            if target.held
            else ""
        )
        if not self.confirm(self, f"Remove {name}?", held + f"Remove the target {name} and its queue?"):
            return
        vault = self.vault
        submit(lambda: service.remove(vault, name), self._done(f"Removed {name}."), self._failed_action)
