"""The "Outside the policy" page: per attribute path and client token, how many requests were refused or
stripped, first and last seen — never a value — and the three decisions a DPO takes from there:

* add the attribute to the catalogue (category, purposes, why), through the usual apply: impact preview, then
  the passphrase;
* switch the policy to strip (store the rest of the request, drop what is outside), through the same apply;
* keep refusing, and hand the IdP's administrator the exact mappings to remove in that IdP's own words.

Rows come from app.policy.outside (Qt-free); what a later policy version admitted drops out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.policy.edit import set_outside_schema
from app.services.policy import Outside, OutsideRow, PolicyInForce, PolicyRecord, outside
from app.setup.idp_guides import GUIDES, guide, guide_for_client, removal_instruction
from app.store.vault import Vault
from app.ui.lock.reauth import Reauthenticate
from app.ui.outside_policy.add_dialog import AddAttributeDialog
from app.ui.policy.apply_dialog import ApplyPolicyDialog
from app.ui.policy.common import Confirm, ask, login_name, plain_label, user_message
from app.ui.table_model import AnyIndex, RowsTableModel
from app.ui.times import local_time
from app.ui.widgets import MessageLabel
from app.ui.workers import NewestAnswer

INTRO = (
    "What identity providers sent that the policy does not hold: per attribute and client, how many requests were "
    "refused or stored without it. Names and counts only, never a value."
)
NUMERIC = frozenset({3, 4})
MINIMUM_ROWS = 3  # rows the table keeps, whatever the window's size (below, the page scrolls)
PREFERRED_ROWS = 40  # rows it grows to at most: room beyond its rows goes to the instruction


Loaded = Outside  # what the page shows, as the service reads it


def load(vault: Vault, in_force: PolicyInForce) -> Outside:
    return outside(vault, in_force)


class OutsideModel(RowsTableModel):
    headers = ("Attribute", "Resource", "Client", "Refused", "Stripped", "First seen", "Last seen")

    def set_rows(self, rows: list[OutsideRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> OutsideRow:
        return self._rows[row]

    def rows(self) -> list[OutsideRow]:
        return list(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row: OutsideRow = self._rows[index.row()]
        values = (row.path, row.resource_type, row.client, row.refused, row.stripped, row.first_seen, row.last_seen)
        value = values[index.column()]
        moment = value if isinstance(value, datetime) else None  # first and last seen
        if role == Qt.ItemDataRole.DisplayRole:
            return local_time(moment) if moment else (f"{value:,}" if index.column() in NUMERIC else value)
        if role == Qt.ItemDataRole.UserRole:  # sorting: numbers as numbers, times as times
            return moment.timestamp() if moment else value
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return f"{row.path}\nCatalogue attribute: {row.attribute}"
        return None


class _Instruction(QPlainTextEdit):
    """Prefers its minimum height (it scrolls) and grows by the stretch: its default preferred height, a dozen
    lines, made the page ask the scroll area for room the table's rows needed. (An Ignored size policy instead
    counts as no height where the page's height-for-width is summed: the page was sized too short, its end cut.)"""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.minimumHeight())

    def minimumSizeHint(self) -> QSize:  # a layout takes the larger of the two as the preferred height
        return QSize(super().minimumSizeHint().width(), self.minimumHeight())


class _Rows(QTableView):
    """The table prefers the height of its rows and keeps a few at least: short of room, it shrinks towards those
    before the Decide box does; with room to spare, it shows every row, and no empty space below them."""

    def sizeHint(self) -> QSize:
        shown = min(max(self.model().rowCount() if self.model() else 0, MINIMUM_ROWS), PREFERRED_ROWS)
        extra = self.minimumHeight() - MINIMUM_ROWS * self.verticalHeader().defaultSectionSize()  # titles, bar
        return QSize(super().sizeHint().width(), extra + shown * self.verticalHeader().defaultSectionSize())


class _Page(QWidget):
    """The page inside its scroll area. A scroll area sizes a widget of wrapped text at its *preferred* height for
    the width, so the page scrolled as far as the table's preferred rows even where its minimum fitted: here it is
    the minimum height for the width, and the layout shares out whatever room there is above it."""

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.totalMinimumHeightForWidth(width) if layout is not None else super().heightForWidth(width)


class OutsidePolicyPage(QWidget):
    policy_applied = Signal(object)  # the new PolicyRecord

    def __init__(
        self,
        vault: Vault,
        in_force: PolicyInForce,
        confirm: Confirm = ask,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reads = NewestAnswer(self, self._loaded, self._failed)  # a read begun before a decision never wins
        self.vault = vault
        self.in_force = in_force
        self.confirm = confirm
        self.operator = operator
        self.reauthenticate: Reauthenticate | None = None  # set by the main window: the passphrase before applying
        self.loaded: Loaded | None = None
        self.add_dialog: AddAttributeDialog | None = None
        self.apply_dialog: ApplyPolicyDialog | None = None

        self.summary = plain_label("Reading the audit trail…", wrap=True)
        self.message = MessageLabel()
        self.model = OutsideModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = _Rows()
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a URN's end names the attribute: keep it
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)  # one line per row: the times stay readable
        self.table.setTabKeyNavigation(False)  # Tab moves on to the decisions
        self.table.setAccessibleName("Attributes outside the policy")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.add_button = QPushButton("&Add to the catalogue…")
        self.add_button.setToolTip("Hold this attribute from now on: choose its category and purposes, say why")
        self.add_button.clicked.connect(self.add_selected)
        self.strip_button = QPushButton("Switch the policy to &strip…")
        self.strip_button.setToolTip("Store the rest of such requests and drop only what is outside the catalogue")
        self.strip_button.clicked.connect(self.switch_to_strip)
        self.idp = QComboBox()
        self.idp.setAccessibleName("Identity provider")
        for item in GUIDES:
            self.idp.addItem(item.name, item.key)
        self.idp.currentIndexChanged.connect(self._show_instruction)
        self.copy_button = QPushButton("&Copy the instruction")
        self.copy_button.clicked.connect(self.copy_instruction)
        self.instruction = _Instruction()
        self.instruction.setReadOnly(True)
        self.instruction.setTabChangesFocus(True)
        self.instruction.setAccessibleName("Instruction for the identity provider")
        self.instruction.setMinimumHeight(self.fontMetrics().height() * 3)  # scrolls; 4 lines: over 540 px at 200 %
        refresh = QPushButton("Re&fresh")
        refresh.clicked.connect(self.refresh)

        decide = QGroupBox("Decide")
        decisions = QVBoxLayout(decide)
        policy_row = QHBoxLayout()
        policy_row.addWidget(self.add_button)
        policy_row.addWidget(self.strip_button)
        policy_row.addStretch(1)
        policy_row.addWidget(refresh)
        # In few words, so that the row fits at 640 px ("Keep refusing, and ask the IdP to stop sending it:" was cut
        # there); on a line of its own it cost the table a row at 200 %.
        keep_refusing = QLabel("Keep refusing; ask the I&dP to stop:")
        keep_refusing.setToolTip("Keep refusing, and ask the identity provider's administrator to stop sending it")
        keep_refusing.setBuddy(self.idp)
        idp_row = QHBoxLayout()
        idp_row.addWidget(keep_refusing)
        idp_row.addWidget(self.idp, 1)
        idp_row.addWidget(self.copy_button)
        decisions.addLayout(policy_row)
        decisions.addLayout(idp_row)
        decisions.addWidget(self.instruction, 1)
        # Never below a few rows and the whole Decide box: at 640×480 with the endpoint panel open the window's
        # minimum size squashed both (buttons cut in half, one row); the page scrolls instead.
        row_height = self.table.verticalHeader().defaultSectionSize()
        titles, bar = self.table.horizontalHeader().sizeHint().height(), self.table.horizontalScrollBar().sizeHint()
        self.table.setMinimumHeight(titles + row_height * MINIMUM_ROWS + bar.height() + 4)  # the columns scroll too
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)  # see _Rows

        body = _Page()
        layout = QVBoxLayout(body)
        layout.addWidget(plain_label(INTRO, wrap=True))
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 3)  # every row first (its preferred height), then most of the room
        layout.addWidget(decide, 1)
        layout.addWidget(self.message)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(body)
        self.scroll_area.setWidgetResizable(True)  # as large as the page when there is room; scrolls when there is not
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)
        self._set_enabled()

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)

    # -- reading -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if not self.vault.is_open:
            return
        vault, in_force = self.vault, self.in_force
        self._reads.submit(lambda: load(vault, in_force))

    def _loaded(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.model.set_rows(loaded.rows)
        mode = loaded.policy.outside_schema
        self.summary.setText(f"{loaded.summary.sentence()} Policy version {loaded.version} {_MODE[mode]}.")
        self.table.resizeColumnsToContents()
        self.table.updateGeometry()  # its preferred height follows the rows
        if loaded.rows and not self.table.selectionModel().hasSelection():
            self.idp.setCurrentIndex(max(0, self.idp.findData(guide_for_client(loaded.rows[0].client).key)))
        self._set_enabled()
        self._show_instruction()

    def _failed(self, exc: Exception) -> None:
        self.message.setText(user_message(exc, "The audit trail could not be read."))

    def clear_for_lock(self) -> None:
        self.model.set_rows([])
        self.instruction.clear()
        self.message.clear()

    # -- selection ---------------------------------------------------------------------------------------
    def selected_rows(self) -> list[OutsideRow]:
        indexes = self.table.selectionModel().selectedRows()
        return [self.model.row_at(self.proxy.mapToSource(index).row()) for index in indexes]

    def _selection_changed(self, *_args: object) -> None:
        selected = self.selected_rows()
        if selected:
            found = self.idp.findData(guide_for_client(selected[0].client).key)
            if found >= 0 and found != self.idp.currentIndex():
                self.idp.setCurrentIndex(found)  # shows the instruction
                self._set_enabled()
                return
        self._set_enabled()
        self._show_instruction()

    def _set_enabled(self) -> None:
        loaded = self.loaded
        self.add_button.setEnabled(len(self.selected_rows()) == 1 and loaded is not None)
        self.strip_button.setEnabled(loaded is not None and loaded.policy.outside_schema != "strip")
        self.copy_button.setEnabled(bool(self.model.rows()))

    # -- the IdP instruction -----------------------------------------------------------------------------
    def instruction_paths(self) -> list[str]:
        """The selected rows' paths, or every row of the clients that look like the chosen IdP (else all)."""
        selected = self.selected_rows()
        if selected:
            return sorted({row.path for row in selected})
        rows = self.model.rows()
        key = self.idp.currentData()
        mine = [row for row in rows if guide_for_client(row.client).key == key]
        return sorted({row.path for row in (mine or rows)})

    def _show_instruction(self, *_args: object) -> None:
        paths = self.instruction_paths()
        if not paths:
            self.instruction.setPlainText("Nothing outside the policy: no instruction needed.")
            return
        self.instruction.setPlainText(removal_instruction(guide(str(self.idp.currentData())), paths))

    def copy_instruction(self) -> None:
        QGuiApplication.clipboard().setText(self.instruction.toPlainText())  # names only: nothing to clear later
        self.message.setText("Instruction copied: paste it into a ticket or follow it in the IdP's console.")

    # -- decisions that change the policy ----------------------------------------------------------------
    def add_selected(self) -> None:
        selected = self.selected_rows()
        if len(selected) != 1 or self.loaded is None:
            self.message.setText("Select one attribute to add.")
            return
        if self.add_dialog is not None:
            self.add_dialog.deleteLater()
        self.add_dialog = AddAttributeDialog(selected[0], self.loaded.policy, self.loaded.policy_text, self)
        self.add_dialog.accepted.connect(self._attribute_proposed)
        self.add_dialog.open()

    def _attribute_proposed(self) -> None:
        dialog = self.add_dialog
        if dialog is not None and dialog.proposed_text is not None:
            self._apply(dialog.proposed_text, dialog.source())

    def switch_to_strip(self) -> None:
        if self.loaded is None:
            return
        text = set_outside_schema(self.loaded.policy_text, "strip")
        self._apply(text, "Switch the policy to strip: store such requests without what is outside the catalogue")

    def _apply(self, text: str, source: str) -> None:
        if self.apply_dialog is not None:
            self.apply_dialog.deleteLater()
        dialog = ApplyPolicyDialog(
            self.vault, None, self.operator(), self.in_force, self.confirm, self, text=text, source=source
        )
        dialog.reauthenticate = self.reauthenticate
        dialog.applied.connect(self._applied)
        self.apply_dialog = dialog
        dialog.open()

    def _applied(self, record: PolicyRecord) -> None:
        self.message.setText(f"Policy version {record.version} applied at {local_time(record.applied_at)}.")
        self.policy_applied.emit(record)
        self.refresh()


_MODE = {
    "reject": "refuses such requests (nothing of them is stored)",
    "strip": "stores such requests without these attributes",
}

