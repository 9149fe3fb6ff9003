"""The policy editor: the common edits as forms, on a draft of the version in force.

The TOML text stays the source of truth. Every change in a form is one core edit (``app.policy.edit``, tomlkit:
comments and layout survive) applied to the draft text after a short pause; the draft is then checked by the
loader, whose messages (with their lines) are shown at once, under the entry they concern. The draft can be read
and edited by hand on the File page, and what it changes is on the Changes page (the same summary and line
diff as comparing two versions). Applying goes through the Apply dialog like a file: impact, confirmation,
passphrase, one new version in the history.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFontDatabase, QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from tomlkit.exceptions import TOMLKitError

from app.policy.locate import table_at
from app.policy.model import NEEDS_HUMAN
from app.services.policy import PolicyInForce, PolicyRecord, Problem, check, diff_draft, errors_of
from app.store.vault import Vault
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.apply_dialog import ApplyPolicyDialog, describe_problem
from app.ui.policy.common import Confirm, ask, plain_label
from app.ui.policy.diff_dialog import DiffHighlighter, read_only_text
from app.ui.policy.editor_sections import (
    AttributesSection,
    CategoriesSection,
    ContactsSection,
    EntrySection,
    HandlingSection,
    PurposesSection,
    RecipientsSection,
    Section,
)
from app.ui.theme import status_colour
from app.ui.widgets import resize_within_screen

PAUSE_MS = 300  # typing pauses this long before the draft is rewritten and checked (an edit takes ~30 ms)
Edit = Callable[[str], str]


def count_text(problems: list[Problem]) -> str:
    errors = sum(1 for p in problems if not p.warning)
    warnings = len(problems) - errors
    parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    parts += [f"{warnings} warning{'s' if warnings != 1 else ''}"] if warnings else []
    return ", ".join(parts)


class PolicyEditorDialog(QDialog):
    """Closed by the operator (Close, Escape, the window's close box), a changed draft is discarded only on
    confirmation. Closed by the program (``reject()``: the window locking) it never asks — a question would stand
    in front of the lock screen — and hands the draft to ``kept`` so the page can offer it again."""

    applied = Signal(object)  # the new PolicyRecord
    kept = Signal(int, str)  # (the version the draft started from, the draft) when closed with changes unapplied

    def __init__(
        self,
        vault: Vault,
        record: PolicyRecord,
        operator: str,
        in_force: PolicyInForce | None = None,
        confirm: Confirm = ask,
        parent: QWidget | None = None,
        draft: str | None = None,
    ) -> None:
        """``draft``: a text kept from an earlier session on the same version, continued instead of the record."""
        super().__init__(parent)
        self.vault, self.record, self.operator, self.in_force, self.confirm = vault, record, operator, in_force, confirm
        self.reauthenticate: Reauthenticate | None = None  # set by the page: the passphrase before applying
        self.original = record.text
        self.text = draft if draft is not None else record.text
        self.problems: list[Problem] = []
        self.staged: dict[str, Edit] = {}
        self.apply_dialog: ApplyPolicyDialog | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PAUSE_MS)
        self.timer.timeout.connect(self.flush)
        self.setWindowTitle(f"Edit the policy (a draft based on version {record.version})")

        self.contacts = ContactsSection(self.stage)
        self.handling = HandlingSection(self.stage)
        self.purposes = PurposesSection(self.stage)
        self.categories = CategoriesSection(self.stage)
        self.attributes = AttributesSection(self.stage)
        self.recipients = RecipientsSection(self.stage)
        self.sections: list[Section] = [
            self.contacts, self.handling, self.purposes, self.categories, self.attributes, self.recipients,
        ]  # fmt: skip
        self.summary = read_only_text("")
        self.text_diff = read_only_text("", monospace=True)
        self.highlighter = DiffHighlighter(self.text_diff.document())
        changes = self._changes_page()
        self.file = QPlainTextEdit()
        file_page = self._file_page()

        self.nav = QListWidget()
        self.nav.setAccessibleName("Parts of the policy")
        self.stack = QStackedWidget()
        for section in self.sections:
            self.nav.addItem(section.title)
            self.stack.addWidget(section)
            if isinstance(section, EntrySection):
                section.selected.connect(self._show_problems)
        self.changes_row = self.nav.count()
        self.nav.addItem("What changes")
        self.stack.addWidget(changes)
        self.file_row = self.nav.count()
        self.nav.addItem("The file (TOML)")
        self.stack.addWidget(file_page)
        self.nav.currentRowChanged.connect(self._page)
        for keys, step in (("Ctrl+PgDown", 1), ("Ctrl+PgUp", -1)):  # as between tabs: the next or previous part
            QShortcut(QKeySequence(keys), self, lambda step=step: self._step_page(step))

        self.status = plain_label(wrap=True)
        self.problem_list = QListWidget()
        self.problem_list.setAccessibleName("Problems the loader finds in the draft")
        self.problem_list.setMaximumHeight(self.fontMetrics().height() * 5)
        self.problem_list.itemActivated.connect(self._go_to_problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restart_button: QPushButton = self.buttons.addButton(
            "S&tart again", QDialogButtonBox.ButtonRole.ResetRole
        )
        self.restart_button.clicked.connect(self.start_again)
        self.apply_button: QPushButton = self.buttons.addButton("&Apply…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.close_asking)
        for button in self.buttons.buttons():
            if isinstance(button, QPushButton):  # a button box makes push buttons
                button.setAutoDefault(False)  # Return in a field must not apply or close

        middle = QHBoxLayout()  # the list of parts keeps its width (fitted to its titles); the page takes the rest
        middle.addWidget(self.nav)
        middle.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                f"A draft based on version {record.version}: nothing changes until you apply it. Empty contact details "
                f'are exported as "{NEEDS_HUMAN}".',
                wrap=True,
            )
        )
        layout.addLayout(middle, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.problem_list)
        layout.addWidget(self.buttons)
        resize_within_screen(self, 1000, 700)
        self._set_text(self.text)
        self.nav.setCurrentRow(0)

    def _changes_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("What changes against the version in force"))
        layout.addWidget(self.summary, 1)
        layout.addWidget(QLabel("Line by line"))
        layout.addWidget(self.text_diff, 2)
        return page

    def _file_page(self) -> QWidget:
        self.file.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.file.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.file.setTabChangesFocus(True)
        self.file.setAccessibleName("The policy file (TOML), editable")
        self.file.setPlainText(self.text)
        self.file.textChanged.connect(self._file_edited)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(plain_label("The file that will be applied. Edit it here or in the forms: both stay in "
                                     "step, and your comments are kept.", wrap=True))  # fmt: skip
        layout.addWidget(self.file, 1)
        return page

    # -- the draft ---------------------------------------------------------------------------------------------
    def stage(self, key: str, change: Edit) -> None:
        """Queue an edit (the latest per key wins: a field typed into is one edit), applied after a pause."""
        self.staged.pop(key, None)
        self.staged[key] = change
        self.timer.start()

    def flush(self) -> None:
        """Apply the queued edits to the draft now (before switching page, applying, or in tests)."""
        self.timer.stop()
        if not self.staged:
            return
        edits, self.staged = list(self.staged.values()), {}
        text = self.text
        try:
            for change in edits:
                text = change(text)
        except TOMLKitError as exc:  # a hand edit on the File page left text tomlkit cannot read
            self.status.setText(f"The file is not valid TOML ({exc}): correct it on the File page first.")
            self._set_text(self.text)
            return
        self._set_text(text)

    def _file_edited(self) -> None:
        text = self.file.toPlainText()
        self.stage("file", lambda _old: text)

    def _set_text(self, text: str) -> None:
        self.text = text
        if self.file.toPlainText() != text:
            self.file.blockSignals(True)
            self.file.setPlainText(text)
            self.file.blockSignals(False)
        _policy, self.problems = check(text)
        document = self._document(text)
        if document is not None:
            for section in self.sections:
                section.load(document)
        self._show_problems()
        if self.stack.currentIndex() == self.changes_row:
            self._show_changes()
        changed = text != self.original
        errors = errors_of(self.problems)
        self.apply_button.setEnabled(changed and not errors)
        self.restart_button.setEnabled(changed)
        if not changed:
            self.status.setText("No change yet.")
        elif errors:
            self.status.setText(f"{count_text(errors)} to correct before this draft can be applied.")
        else:
            self.status.setText("The draft is valid: review What changes, then Apply.")

    @staticmethod
    def _document(text: str) -> dict[str, Any] | None:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None

    # -- problems, filed under the page and entry they concern --------------------------------------------------
    def _place(self, problem: Problem) -> tuple[int, int | None]:
        """The page row of a problem and the entry on it (None: the page as a whole)."""
        table = table_at(self.text, problem.line)
        name = str(table[0]) if table else ""
        for row, section in enumerate(self.sections):
            if name in section.table_names:
                entry = table[1] if isinstance(section, EntrySection) and len(table) > 1 else None
                return row, entry if isinstance(entry, int) else None
        return self.file_row, None

    def _show_problems(self) -> None:
        self.problem_list.clear()
        for problem in sorted(self.problems, key=lambda p: (p.warning, p.line)):
            item = QListWidgetItem(describe_problem(problem))
            item.setData(Qt.ItemDataRole.UserRole, problem.line)
            if not problem.warning:
                item.setForeground(status_colour("error"))
            self.problem_list.addItem(item)
        self.problem_list.setVisible(bool(self.problems))
        placed = [(self._place(p), p) for p in self.problems]
        for row, section in enumerate(self.sections):
            mine = [p for (r, _e), p in placed if r == row]
            label = section.title + (f"  ({count_text(mine)})" if mine else "")
            self.nav.item(row).setText(label)
            entry = section.entry_index()
            shown = [p for (r, e), p in placed if r == row and (e is None or e == entry)]
            section.show_problems([describe_problem(p) for p in shown])
        self.nav.setFixedWidth(self.nav.sizeHintForColumn(0) + 2 * self.nav.frameWidth() + 12)  # titles with counts

    def _go_to_problem(self, item: QListWidgetItem) -> None:
        line = int(item.data(Qt.ItemDataRole.UserRole))
        problem = next((p for p in self.problems if p.line == line), None)
        row, entry = self._place(problem) if problem is not None else (self.file_row, None)
        self.nav.setCurrentRow(row)
        if row == self.file_row:
            cursor = QTextCursor(self.file.document().findBlockByLineNumber(max(line - 1, 0)))
            self.file.setTextCursor(cursor)
            self.file.setFocus()
            return
        section = self.sections[row]
        if isinstance(section, EntrySection) and entry is not None:
            section.entries.setCurrentRow(entry)
        section.setFocus()
        section.focusNextChild()

    def add_attribute(self, path: str, resource: str = "User") -> None:
        """Open the Attributes page on a new entry for ``path``: the operator chooses its category and purposes
        (the "Outside the policy" decisions start here)."""
        self.nav.setCurrentRow(self.sections.index(self.attributes))
        self.attributes.add({"resource": resource, "path": path})
        self.flush()
        self.attributes.category.setFocus()

    # -- pages ------------------------------------------------------------------------------------------------
    def _step_page(self, step: int) -> None:
        self.nav.setCurrentRow((self.nav.currentRow() + step) % self.nav.count())

    def _page(self, row: int) -> None:
        self.flush()
        self.stack.setCurrentIndex(row)
        if row == self.changes_row:
            self._show_changes()
        self._show_problems()

    def _show_changes(self) -> None:
        diff = diff_draft(self.record, self.text, self.operator)
        self.summary.setPlainText("\n".join(diff.summary) if self.text != self.original else "No change yet.")
        self.text_diff.setPlainText("\n".join(diff.text_diff))

    # -- leaving ------------------------------------------------------------------------------------------------
    def start_again(self) -> None:
        self.flush()
        if self.text != self.original and self.confirm(
            self, "Start again", "Discard every change in this draft and start again from the version in force?"
        ):
            self._set_text(self.original)

    def apply(self) -> None:
        self.flush()
        if self.text == self.original or errors_of(self.problems):
            return
        if self.apply_dialog is not None:
            self.apply_dialog.deleteLater()
        dialog = ApplyPolicyDialog(
            self.vault, None, self.operator, self.in_force, self.confirm, self, text=self.text,
            based_on=self.record.version,
        )  # fmt: skip
        dialog.reauthenticate = self.reauthenticate
        dialog.applied.connect(self._applied)
        self.apply_dialog = dialog
        dialog.open()

    def _applied(self, record: PolicyRecord) -> None:
        self.original = self.text  # nothing left to discard
        self.applied.emit(record)
        self.accept()

    def close_asking(self) -> None:
        """The operator closes: a changed draft is discarded only if they say so."""
        self.flush()
        if self.text != self.original and not self.confirm(
            self, "Discard the draft", "Close the editor and discard the changes not applied?"
        ):
            return
        self.original = self.text  # discarded: nothing to keep
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_asking()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.close_asking()

    def reject(self) -> None:
        """Closed by the program (the window locks): no question; an unapplied draft is kept for later."""
        self.flush()
        if self.text != self.original:
            self.kept.emit(self.record.version, self.text)
        super().reject()
