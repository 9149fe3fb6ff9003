"""The Targets page: each downstream application's health and queue, and its mapping beside the catalogue.

All reads run in workers (app/ui/workers.py); the page refreshes every few seconds while it is visible.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtGui import QHideEvent, QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QSplitter, QTableView, QVBoxLayout, QWidget

from app.policy.in_force import PolicyInForce
from app.policy.model import Policy
from app.store.vault import Vault
from app.targets.status import TargetHealth, health
from app.ui.identities.model import local_time
from app.ui.workers import submit

REFRESH_MS = 3000
HEADERS = ("Target", "State", "Recipient", "Subjects held", "Queued", "Failed", "Sync progress", "Last success",
           "Last error", "URL")  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    targets: list[TargetHealth]
    policy: Policy


def load(vault: Vault, policy: PolicyInForce) -> Snapshot:
    active = policy.get()
    with vault.read_connection() as conn:
        return Snapshot(health(conn, active.policy), active.policy)


def _row(values: list[str]) -> list[QStandardItem]:
    items = []
    for value in values:
        item = QStandardItem(value)
        item.setEditable(False)
        items.append(item)
    return items


class TargetsPage(QWidget):
    def __init__(self, vault: Vault, policy: PolicyInForce, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.policy = policy
        self.snapshot: Snapshot | None = None
        self.summary = QLabel("Loading…")
        self.table = QTableView()
        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Targets")
        self.table.verticalHeader().hide()
        self.mapping_title = QLabel("Select a target to see what it receives.")
        self.mapping = QTableView()
        self.mapping_model = QStandardItemModel(0, 3, self)
        self.mapping_model.setHorizontalHeaderLabels(["Attribute in the agreed schema", "Data category", "Sent"])
        self.mapping.setModel(self.mapping_model)
        self.mapping.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.mapping.setAccessibleName("Attributes sent to the selected target")
        self.table.selectionModel().selectionChanged.connect(self._show_mapping)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.mapping_title)
        lower_layout.addWidget(self.mapping)
        splitter = QSplitter()
        splitter.setOrientation(splitter.orientation().Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._loading = False

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        if self._loading or not self.vault.is_open:
            return
        self._loading = True
        submit(lambda: load(self.vault, self.policy), self._loaded, self._failed)

    def _failed(self, _exc: Exception) -> None:
        self._loading = False
        self.summary.setText("The targets could not be read; the vault may be closed.")

    def _loaded(self, snapshot: Snapshot) -> None:
        self._loading = False
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
                        target.problem or target.last_error or "",
                        target.config.base_url,
                    ]
                )
            )
        queued = sum(t.pending for t in snapshot.targets)
        failing = sum(1 for t in snapshot.targets if t.state in ("needs attention", "not provisioned", "incomplete"))
        syncing = sum(1 for t in snapshot.targets if t.state == "catching up")
        self.summary.setText(
            f"{len(snapshot.targets)} target(s); {queued:,} change(s) queued; {syncing} syncing; "
            f"{failing} need attention. Add targets with `custos target add`."
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

    def _show_mapping(self) -> None:
        name = self._selected_name()
        snapshot = self.snapshot
        self.mapping_model.removeRows(0, self.mapping_model.rowCount())
        if snapshot is None or name is None:
            return
        target = next(t for t in snapshot.targets if t.config.name == name)
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
            self.mapping_model.appendRow(_row([key, category.name if category else rule.category, mark]))
