"""Add a refused attribute to the catalogue: category, purposes and why, then the usual apply (impact preview and
the passphrase). The dialog only writes the proposed policy text; ApplyPolicyDialog checks and applies it.

A ``[type missing]`` row is of elements sent with no ``type``: no type filter can hold them, so no choice of types
is offered. The dialog says so, and the two ways that would end the refusals: the IdP's mapping sends a type, or
the catalogue holds every type of the attribute — a widening the DPO ticks on purpose (Art. 5(1)(c))."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.policy.edit import add_attribute, change_attribute_with_reason
from app.policy.model import AttributeRule, Policy, typed_label
from app.policy.paths import resolve_path, split_path
from app.policy.type_filter import NO_TYPE, canonical_types
from app.services.policy import OutsideRow, catalogue_path, catalogue_types
from app.ui.widgets import error_label, text_label


class AddAttributeDialog(QDialog):
    """On acceptance ``proposed_text`` is the policy text with the new entry."""

    def __init__(self, row: OutsideRow, policy: Policy, policy_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = row
        self.policy_text = policy_text
        self.proposed_text: str | None = None
        # The catalogue may already hold this attribute for other types (work phone numbers, and now mobile ones
        # are refused): then the decision widens that entry, since a path is listed once.
        self.existing = _typed_entry(policy, row.resource_type, catalogue_path(row))
        self.untyped = NO_TYPE in row.path  # elements with no type: only "every type" would hold them
        self.attribute = split_path(row.attribute)[1]
        self.setWindowTitle("Add an attribute to the catalogue")
        self.setMinimumWidth(520)  # the purposes list shows whole names
        self.path = QLineEdit(catalogue_path(row))
        self.path.setAccessibleName("Catalogue path")
        self.category = QComboBox()
        self.category.setAccessibleName("Data category")
        # No category is preselected: the first one (identifiers, in the shipped policy) would file a phone number
        # under the wrong retention and Art. 30 row if the DPO did not look.
        self.category.addItem("(choose the data category)", "")
        for category in policy.categories:
            self.category.addItem(f"{category.name} ({category.id})", category.id)
        self.purposes = QListWidget()
        self.purposes.setAccessibleName("Purposes")
        for purpose in policy.purposes:
            item = QListWidgetItem(f"{purpose.name} ({purpose.id})")
            item.setData(Qt.ItemDataRole.UserRole, purpose.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.purposes.addItem(item)
        self.purposes.setMaximumHeight(self.purposes.sizeHintForRow(0) * 4 + 6 if policy.purposes else 60)
        # Only the type refused is ticked: adding work phone numbers must not admit mobile and fax ones.
        self.types = QListWidget()
        self.types.setAccessibleName("Types held")
        self.types.setFlow(QListWidget.Flow.LeftToRight)
        self.types.setWrapping(True)
        wanted = catalogue_types(row) + (self.existing.types if self.existing is not None else ())
        for kind in () if self.untyped else canonical_types(row.resource_type, self.attribute):
            item = QListWidgetItem(kind)
            item.setData(Qt.ItemDataRole.UserRole, kind)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if kind in wanted else Qt.CheckState.Unchecked)
            self.types.addItem(item)
        self.types.setMaximumHeight(self.types.sizeHintForRow(0) * 2 + 8 if self.types.count() else 0)
        self.types.itemChanged.connect(self._show_scope)
        # For untyped elements, the one choice that holds them, unticked: widening is a decision, never a default.
        self.every_type = QCheckBox(f"Hold &every type of {self.attribute}, and those sent with no type")
        self.every_type.setAccessibleName("Hold every type")
        self.every_type.toggled.connect(self._show_scope)
        self.scope = text_label("")
        self._show_scope()
        if self.existing is not None:
            self.path.setReadOnly(True)  # the entry to widen
            self.category.setCurrentIndex(max(0, self.category.findData(self.existing.category)))
            for i in range(self.purposes.count()):
                if self.purposes.item(i).data(Qt.ItemDataRole.UserRole) in self.existing.purposes:
                    self.purposes.item(i).setCheckState(Qt.CheckState.Checked)
        self.justification = QPlainTextEdit()
        self.justification.setTabChangesFocus(True)  # Tab leaves the box, as in a form
        self.justification.setPlaceholderText("Why this attribute is needed for the chosen purposes (Art. 5(1)(c))")
        self.justification.setAccessibleName("Justification")
        self.justification.setMaximumHeight(self.fontMetrics().height() * 4)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.next_button = self.buttons.addButton("&Check the impact…", QDialogButtonBox.ButtonRole.AcceptRole)
        # Return, wherever the focus is (Cancel included, after a Tab), goes on; Escape or Space on Cancel cancels.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.propose)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Path", self.path)
        if self.untyped:
            form.addRow("", self.every_type)
            form.addRow("", self.scope)
        elif self.types.count():
            form.addRow("&Types held", self.types)
            form.addRow("", self.scope)
        form.addRow("&Category", self.category)
        form.addRow("P&urposes", self.purposes)
        form.addRow("&Why", self.justification)
        layout = QVBoxLayout(self)
        layout.addWidget(text_label(f"Refused or stripped: {row.path} ({row.resource_type}), from {row.client}."))
        if self.untyped:
            layout.addWidget(text_label(self._untyped_text()))
        elif self.existing is not None:
            layout.addWidget(
                text_label(
                    f"The catalogue already holds {self.existing.label}: this widens that entry to the types ticked. "
                    "Its category and purposes apply to every type it holds."
                )
            )
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.next_button.setDefault(True)  # set before show, QDialogButtonBox would pick its own

    def chosen_types(self) -> list[str]:
        return [
            str(self.types.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.types.count())
            if self.types.item(i).checkState() == Qt.CheckState.Checked
        ]

    def entry_label(self) -> str:
        """The entry as the impact preview and the history will name it: ``phoneNumbers[type eq "work"].value``."""
        return typed_label(self.path.text().strip(), self.chosen_types())

    def _untyped_text(self) -> str:
        held = f"The catalogue holds {self.existing.label}" if self.existing is not None else "A catalogue entry"
        return (
            f"These {self.attribute} came with no type. {held}, and a type filter holds only the types it names: no "
            f"choice of types can hold them. Either have the identity provider's mapping send a type the policy "
            f"holds (Cancel; the page's instruction says where), or hold every type of {self.attribute}, untyped "
            "ones included: a widening, justified only if every type is needed for the purposes (Art. 5(1)(c))."
        )

    def _show_scope(self, *_args: object) -> None:
        chosen = self.chosen_types()
        attribute = self.attribute
        if self.untyped:
            self._show_untyped_scope()
            return
        if not chosen:
            self.scope.setText(f"No type ticked: every type of {attribute} is held, whatever the IdP sends.")
            return
        others = [self.types.item(i).text() for i in range(self.types.count())]
        others = [kind for kind in others if kind not in chosen]
        held = f"Only {attribute} of type {_listed(chosen)} will be held"
        self.scope.setText(f"{held}; {_listed(others)} stay outside the policy." if others else f"{held}.")

    def _show_untyped_scope(self) -> None:
        kinds = canonical_types(self.row.resource_type, self.attribute)
        held = list(self.existing.types) if self.existing is not None else []
        if not self.every_type.isChecked():
            self.scope.setText(f"Nothing is widened until you tick it: untyped {self.attribute} stay refused.")
        else:
            added = [kind for kind in kinds if kind not in held]
            now = f" (now: {_listed(held)} only)" if held else ""
            also = f"{', '.join(added)}, " if added else ""
            self.scope.setText(f"Every {self.attribute} will be held{now}: {also}types outside the schema's list "
                               "and untyped ones.")  # fmt: skip
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to the height the text now needs: a window is not resized for a label's height-for-width."""
        layout = self.layout()
        if layout is not None and self.isVisible():
            need = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else 0
            if need > self.height():
                self.resize(self.width(), need)

    def source(self) -> str:
        """What the apply is, as its dialog and the policy history say it."""
        if self.untyped:
            was = f" (was {', '.join(self.existing.types)})" if self.existing is not None else ""
            return (f"Hold every type of {self.path.text().strip()} ({self.row.resource_type}), those with no type "
                    f"included{was}")  # fmt: skip
        return f"Add {self.entry_label()} ({self.row.resource_type}) to the catalogue"

    def chosen_purposes(self) -> list[str]:
        return [
            str(self.purposes.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.purposes.count())
            if self.purposes.item(i).checkState() == Qt.CheckState.Checked
        ]

    def propose(self) -> None:
        path, purposes, why = self.path.text().strip(), self.chosen_purposes(), self.justification.toPlainText()
        if not path:
            return self._refuse("Give the catalogue path.")
        if not self.category.currentData():
            return self._refuse("Choose the data category: it decides the retention period and the Art. 30 row.")
        if not purposes:
            return self._refuse("Choose at least one purpose: an attribute is held for a purpose or not at all.")
        if not why.strip():
            return self._refuse("Say why it is needed: the justification is kept next to the entry.")
        if self.untyped and not self.every_type.isChecked():
            return self._refuse(
                f"No type can hold {self.attribute} sent without one: tick 'Hold every type', or Cancel and have the "
                "identity provider send a type."
            )
        category = str(self.category.currentData())
        if self.existing is not None:
            values = {"path": self.existing.path, "types": self.chosen_types() or None, "category": category,
                      "purposes": purposes}  # fmt: skip
            self.proposed_text = change_attribute_with_reason(
                self.policy_text, self.row.resource_type, self.existing.path, values, why
            )
        else:
            self.proposed_text = add_attribute(
                self.policy_text, self.row.resource_type, path, category, purposes, why, self.chosen_types()
            )
        self.accept()

    def _refuse(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()


def _typed_entry(policy: Policy, resource_type: str, path: str) -> AttributeRule | None:
    """The catalogue entry for ``path`` that holds only some types, if there is one."""
    resolved = resolve_path(resource_type, path) if resource_type in ("User", "Group") else None
    if resolved is None:
        return None
    return next(
        (r for r in policy.rules_for(resource_type) if r.key == resolved.index_path and r.types), None
    )


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
