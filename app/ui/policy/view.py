"""The Policy page: what Custos may hold and why (the catalogue in force), every applied version, diffs, apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.services import policy as policy_service
from app.services.policy import Policy, PolicyDiff, PolicyInForce, PolicyRecord, Problem, diff_versions, stale_problems
from app.store.vault import Vault
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.apply_dialog import ApplyPolicyDialog
from app.ui.policy.common import Confirm, ask, login_name, plain_label, user_message
from app.ui.policy.diff_dialog import DiffDialog
from app.ui.policy.editor import PolicyEditorDialog
from app.ui.policy.models import CatalogueModel, HistoryModel, short_sha
from app.ui.policy.text_dialog import PolicyTextDialog
from app.ui.times import local_time
from app.ui.widgets import FittedLabel, documents_dir
from app.ui.workers import NewestAnswer, submit

MAX_COLUMN_WIDTH = 340
MIN_COLUMN_WIDTH = 200  # an extension URN still ends with its attribute's name; the whole text in its tooltip
ChooseFile = Callable[[QWidget], Path | None]

OUTSIDE_SCHEMA = {
    "reject": "reject (requests carrying personal data outside the catalogue are refused)",
    "strip": "strip (personal data outside the catalogue is dropped before storing)",
}


def choose_policy_file(parent: QWidget) -> Path | None:
    name, _filter = QFileDialog.getOpenFileName(
        parent, "Apply a policy file", documents_dir(), "Policy files (*.toml);;All (*)"
    )
    return Path(name) if name else None


@dataclass(frozen=True)
class Loaded:
    records: list[PolicyRecord]  # oldest first; the last is in force
    policy: Policy | None  # the one in force, parsed in the worker
    stale: tuple[Problem, ...] = ()  # what today's checks refuse in the version in force (applied under older ones)


def load(vault: Vault, in_force: PolicyInForce | None) -> Loaded:
    """Worker side. A vault without any version gets the shipped default, as the server would on start."""
    records = policy_service.history(vault, in_force)
    if not records:
        return Loaded(records, None)
    return Loaded(records, records[-1].policy, tuple(stale_problems(records[-1].text)))


def header_text(record: PolicyRecord, policy: Policy, stale: tuple[Problem, ...] = ()) -> str:
    text = (
        f"In force: v{record.version} · sha256 {short_sha(record.sha256)} · applied {local_time(record.applied_at)} "
        f"by {record.operator}\n{policy.title} · outside the schema: "
        f"{OUTSIDE_SCHEMA.get(policy.outside_schema, policy.outside_schema)}"
    )
    if stale:
        first = stale[0]
        text += (
            f"\nThis version was applied under older checks and has {counted(len(stale), 'problem')} this Custos "
            f"refuses in a new version (first: line {first.line}: {first.message}). It stays in force; fix its file "
            "(policy validate) and apply it again."
        )
    return text


def _table(model: QAbstractItemModel, selection: QAbstractItemView.SelectionMode) -> QTableView:
    table = QTableView()
    table.setTabKeyNavigation(False)  # read-only: Tab leaves the table (it walked every cell)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    # The header and one row at least (not Qt's larger default): the page then fits a 960×540 window, a
    # 1920×1080 screen at 200 % (tests/ui/test_ui_scaling.py); the splitter gives the tables the rest.
    header = table.horizontalHeader().sizeHint().height()
    # A narrow window adds a horizontal scroll bar, which took the row's place (8 pixels left at 640×480).
    scroll_bar = table.horizontalScrollBar().sizeHint().height()
    table.setMinimumHeight(header + table.verticalHeader().defaultSectionSize() + 2 * table.frameWidth() + scroll_bar)
    return table


def fit_columns(table: QTableView) -> None:
    """Fit columns to their text, but cap long ones (extension URNs, retention notes); full text in tooltips.

    Then, where they are wider together than the table, the widest give up the difference (none below
    MIN_COLUMN_WIDTH): at 1280×800 the catalogue scrolled sideways and its Recipients column was out of view."""
    table.resizeColumnsToContents()
    widths = [min(table.columnWidth(column), MAX_COLUMN_WIDTH) for column in range(table.model().columnCount())]
    # Hidden, the table has no width of its own yet: leveled to it, every column came out at the floor.
    cap = level(widths, table.viewport().width()) if table.isVisible() else MAX_COLUMN_WIDTH
    for column, width in enumerate(widths):
        table.setColumnWidth(column, min(width, cap))


def level(widths: list[int], room: int) -> int:
    """The widest a column may be for ``widths`` to fit ``room`` (never below MIN_COLUMN_WIDTH): the narrow ones
    keep their width, the wide ones are cut to the same width."""
    cap = max(widths, default=0)
    while cap > MIN_COLUMN_WIDTH and sum(min(width, cap) for width in widths) > room:
        cap -= 1
    return cap


class PolicyPage(QWidget):
    def __init__(
        self,
        vault: Vault,
        in_force: PolicyInForce | None = None,
        choose_file: ChooseFile = choose_policy_file,
        confirm: Confirm = ask,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reads = NewestAnswer(self, self._loaded, self._failed)  # a read begun before an apply never wins
        self.reauthenticate: Reauthenticate | None = None  # set by the main window
        self.vault = vault
        self.in_force = in_force
        self.choose_file = choose_file
        self.confirm = confirm
        self.operator = operator
        self.loaded: Loaded | None = None
        self.apply_dialog: ApplyPolicyDialog | None = None
        self.diff_dialog: DiffDialog | None = None
        self.editor: PolicyEditorDialog | None = None
        self.kept_draft: tuple[int, str] | None = None  # (base version, text) of a draft closed by the lock

        self.header = FittedLabel("Reading the policy in force…")
        self.message = plain_label(wrap=True)
        self.catalogue = CatalogueModel(self)
        self.catalogue_table = _table(self.catalogue, QAbstractItemView.SelectionMode.SingleSelection)
        # An extension attribute's path is a long URN whose last part names the attribute: cut on the right it read
        # "urn:ietf:params:scim:schemas:extension:enterprise:2…" and never said which one (whole in its tooltip).
        self.catalogue_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.history = HistoryModel(self)
        self.history_table = _table(self.history, QAbstractItemView.SelectionMode.MultiSelection)
        self.history_table.setToolTip("Select two versions to compare, or one to compare with the version before it")
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare_selected)
        self.show_text_button = QPushButton("Show the text")
        self.show_text_button.setToolTip("The selected version exactly as it was applied, with a copy to save")
        self.show_text_button.clicked.connect(self.show_selected_text)
        self.history_table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.edit_button = QPushButton("&Edit the policy…")
        self.edit_button.setToolTip("The common edits as forms, checked as you type, applied as a new version")
        self.edit_button.clicked.connect(self.open_editor)
        self.apply_button = QPushButton("Apply a policy file…")
        self.apply_button.clicked.connect(self.apply_file)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)

        catalogue_box = QGroupBox("Attribute catalogue: the only personal data Custos may hold")
        QVBoxLayout(catalogue_box).addWidget(self.catalogue_table)
        history_box = QGroupBox("Version history")
        history_layout = QVBoxLayout(history_box)
        history_layout.addWidget(self.history_table)
        history_buttons = QHBoxLayout()
        history_buttons.addStretch(1)
        history_buttons.addWidget(self.show_text_button)
        history_buttons.addWidget(self.compare_button)
        history_layout.addLayout(history_buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(catalogue_box)
        splitter.addWidget(history_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)  # at 640×480 the catalogue kept 8 pixels: never below one row
        # The header has the page's width to itself: beside the buttons it wrapped to five lines at 640 px, more
        # than the page's minimum counts, and the Version history's buttons were drawn over its table.
        commands = QHBoxLayout()
        commands.addWidget(self.message, 1)
        commands.addWidget(refresh)
        commands.addWidget(self.edit_button)
        commands.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(commands)
        layout.addWidget(splitter, 1)
        self._selection_changed()
        self.refresh()

    # -- loading -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        vault, in_force = self.vault, self.in_force
        self._reads.submit(lambda: load(vault, in_force))

    def _loaded(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.history.set_records(loaded.records)
        if not loaded.records or loaded.policy is None:
            self.header.setText(
                "No policy has been applied yet: the server installs the shipped default when it starts."
            )
            self.catalogue.set_rows([])
        else:
            self.header.setText(header_text(loaded.records[-1], loaded.policy, loaded.stale))
            self.catalogue.set_policy(loaded.policy)
        fit_columns(self.catalogue_table)
        fit_columns(self.history_table)
        self._selection_changed()

    def _failed(self, exc: Exception) -> None:
        self.message.setText(user_message(exc, "The policy could not be read from the vault."))

    # -- compare -------------------------------------------------------------------------------------
    def selected_records(self) -> list[PolicyRecord]:
        rows = sorted(index.row() for index in self.history_table.selectionModel().selectedRows())
        return sorted((self.history.record(row) for row in rows), key=lambda r: r.version)

    def _pair(self) -> tuple[PolicyRecord, PolicyRecord] | None:
        """Two selected versions, or one and the version before it."""
        chosen = self.selected_records()
        if len(chosen) == 2:
            return chosen[0], chosen[1]
        if len(chosen) == 1:
            older = [r for r in self.history.records if r.version < chosen[0].version]
            if older:
                return older[0], chosen[0]  # history is newest first: the first older one is the previous
        return None

    def _selection_changed(self, *_args: object) -> None:
        self.compare_button.setEnabled(self._pair() is not None)
        self.edit_button.setEnabled(bool(self.loaded and self.loaded.records))
        self.show_text_button.setEnabled(len(self.selected_records()) == 1)

    def show_selected_text(self) -> None:
        chosen = self.selected_records()
        if len(chosen) != 1:
            self.message.setText("Select one version to see its text.")
            return
        dialog = PolicyTextDialog(chosen[0], self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def compare_selected(self) -> None:
        pair = self._pair()
        if pair is None:
            self.message.setText("Select two versions to compare (or one, to compare it with the previous one).")
            return
        old, new = pair
        submit(lambda: diff_versions(old, new), self._show_diff, self._failed)  # parses two files: off the GUI

    def _show_diff(self, diff: PolicyDiff) -> None:
        if self.diff_dialog is not None:
            self.diff_dialog.deleteLater()
        self.diff_dialog = DiffDialog(diff, self)
        self.diff_dialog.open()

    # -- apply ---------------------------------------------------------------------------------------
    def apply_file(self) -> None:
        path = self.choose_file(self)
        if path is None:
            return
        if self.apply_dialog is not None:
            self.apply_dialog.deleteLater()
        self.message.clear()
        dialog = ApplyPolicyDialog(self.vault, path, self.operator(), self.in_force, self.confirm, self)
        dialog.reauthenticate = self.reauthenticate
        dialog.applied.connect(self._applied)
        self.apply_dialog = dialog
        dialog.open()

    # -- edit ----------------------------------------------------------------------------------------------
    def open_editor(self, attribute: str | None = None) -> None:
        """A draft of the version in force, edited as forms; applying it is one new version, as a file is.
        ``attribute``: start on a new catalogue entry for that User attribute path."""
        if self.loaded is None or not self.loaded.records:
            return
        if self.editor is not None and self.editor.isVisible():
            self.editor.raise_()
            self.editor.activateWindow()
            if attribute:
                self.editor.add_attribute(attribute)
            return
        if self.editor is not None:
            self.editor.deleteLater()
        self.message.clear()
        record = self.loaded.records[-1]
        draft = self.kept_draft[1] if self.kept_draft and self.kept_draft[0] == record.version else None
        if draft is not None:
            self.message.setText("Continuing the draft kept when the window locked (Start again discards it).")
        self.kept_draft = None
        editor = PolicyEditorDialog(self.vault, record, self.operator(), self.in_force, self.confirm, self, draft)
        editor.reauthenticate = self.reauthenticate
        editor.applied.connect(self._applied)
        editor.kept.connect(self._keep_draft)
        self.editor = editor
        editor.open()
        if attribute:
            editor.add_attribute(attribute)

    def _keep_draft(self, version: int, text: str) -> None:
        self.kept_draft = (version, text)  # a policy text holds no personal data: kept in memory while locked

    def _applied(self, record: PolicyRecord) -> None:
        when = local_time(record.applied_at)  # the line stays: it must read as a past event
        self.message.setText(f"Policy version {record.version} applied at {when} (sha256 {short_sha(record.sha256)}).")
        self.refresh()
