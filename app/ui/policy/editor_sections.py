"""The policy editor's pages: one per part of the file a DPO changes (contacts, handling and measures, purposes,
categories, attributes, recipients). Each page reads the draft's parsed values and hands each change to the
editor as one core edit (``app.policy.edit``); it never writes TOML itself."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.policy import edit
from app.policy.model import ART9_CONDITIONS, LAWFUL_BASES, NEEDS_HUMAN, RECIPIENT_KINDS, typed_label
from app.policy.paths import holdable_paths, split_path
from app.policy.type_filter import canonical_types
from app.ui.policy.editor_fields import (
    CheckList,
    RetentionField,
    ScopeField,
    choose,
    combo,
    put,
    put_list,
    split,
)
from app.ui.widgets import error_label, text_label

Document = dict[str, Any]
Edit = Callable[[str], str]
Stage = Callable[[str, Edit], None]  # (what is being edited, the edit): the editor applies it after a pause


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def _scrolled(widget: QWidget) -> QScrollArea:
    """Pages scroll rather than grow: the editor fits a 960×540 window (a 1080p screen at 200 %)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields narrow, rows wrap
    return area


class Section(QWidget):
    """A page of the editor: ``load`` shows the draft's values, changes go to ``stage``."""

    title = ""
    table_names: tuple[str, ...] = ()  # the file's tables this page edits, for filing the loader's messages

    def __init__(self, stage: Stage) -> None:
        super().__init__()
        self.stage = stage
        self.loading = False
        self.problems = error_label()

    def load(self, document: Document) -> None:
        raise NotImplementedError

    def show_problems(self, messages: list[str]) -> None:
        self.problems.setText("\n".join(messages))
        self.problems.setVisible(bool(messages))

    def entry_index(self) -> int | None:
        """Which entry of an array of tables is shown (None: the page is not a list of entries)."""
        return None


# -- contacts ------------------------------------------------------------------------------------------------------
ROLES = (
    ("controller", "Controller (Art. 30(1)(a))", "&Controller: name"),
    ("dpo", "Data protection officer", "&DPO: name"),
    ("representative", "Representative in the EU (Art. 27), where one is needed", "R&epresentative: name"),
)


class ContactsSection(Section):
    title = "Contacts"
    table_names = ("controller", "dpo", "representative")

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.fields: dict[str, dict[str, QLineEdit]] = {}
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.problems)
        layout.addWidget(
            text_label(
                "Who is responsible, as the Art. 30 record names them. Anything left empty is exported as "
                f'"{NEEDS_HUMAN}". A representative left wholly empty is removed from the file.'
            )
        )
        for role, heading, first in ROLES:
            box = QGroupBox(heading)
            form = QFormLayout(box)
            self.fields[role] = {}
            for field_name in edit.CONTACT_FIELDS:
                field = QLineEdit()
                field.setAccessibleName(f"{role} {field_name}")
                field.textEdited.connect(lambda _text, r=role: self._changed(r))
                self.fields[role][field_name] = field
                form.addRow(_label(first, field) if field_name == "name" else QLabel(field_name.capitalize()), field)
            layout.addWidget(box)
        layout.addStretch(1)
        QVBoxLayout(self).addWidget(_scrolled(inner))

    def _changed(self, role: str) -> None:
        values = {name: field.text() for name, field in self.fields[role].items()}
        self.stage(f"contact:{role}", lambda text: edit.set_contact(text, role, values))

    def load(self, document: Document) -> None:
        for role, fields in self.fields.items():
            raw = document.get(role)
            raw = raw if isinstance(raw, dict) else {}
            for name, field in fields.items():
                put(field, raw.get(name, ""))


# -- handling and measures -------------------------------------------------------------------------------------------
class HandlingSection(Section):
    title = "Handling, measures"
    table_names = ("",)

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.reject = QRadioButton("&Refuse the request (400 invalidValue, naming the attribute; nothing stored)")
        self.strip = QRadioButton("&Strip: store the request without the attributes outside the policy")
        group = QButtonGroup(self)
        group.addButton(self.reject)
        group.addButton(self.strip)
        self.reject.toggled.connect(self._mode_changed)
        self.measures = QPlainTextEdit()
        self.measures.setTabChangesFocus(True)
        self.measures.setAccessibleName("Organisational measures, one a line")
        self.measures.textChanged.connect(self._measures_changed)
        mode_box = QGroupBox("Personal data an identity provider sends outside the policy")
        mode_layout = QVBoxLayout(mode_box)
        mode_layout.addWidget(self.reject)
        mode_layout.addWidget(self.strip)
        mode_layout.addWidget(text_label("Either way each refusal or strip is on the audit trail, names only."))
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.problems)
        layout.addWidget(mode_box)
        layout.addWidget(_label("Organisational &measures, one a line (technical ones are read from Custos)",
                                self.measures))  # fmt: skip
        layout.addWidget(self.measures, 1)
        QVBoxLayout(self).addWidget(_scrolled(inner))

    def _mode_changed(self) -> None:
        if self.loading:
            return
        mode = "reject" if self.reject.isChecked() else "strip"
        self.stage("outside_schema", lambda text: edit.set_outside_schema(text, mode))

    def _measures_changed(self) -> None:
        if self.loading:
            return
        measures = self.measures.toPlainText().splitlines()
        self.stage("measures", lambda text: edit.set_organisational_measures(text, measures))

    def load(self, document: Document) -> None:
        self.loading = True
        (self.strip if document.get("outside_schema") == "strip" else self.reject).setChecked(True)
        measures = document.get("organisational_measures", [])
        lines = [str(m) for m in measures] if isinstance(measures, list) else []
        if [line.strip() for line in self.measures.toPlainText().splitlines() if line.strip()] != lines:
            self.measures.setPlainText("\n".join(lines))
        self.loading = False


# -- lists of entries -----------------------------------------------------------------------------------------------
class EntrySection(Section):
    """A list of entries (purposes, categories…) beside the form of the selected one, with Add and Remove."""

    section = ""  # the array of tables
    noun = ""
    article = "a"
    selected = Signal()  # another entry is shown: the editor files the loader's messages for it

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.document: Document = {}
        self.current: Hashable | None = None  # the selected entry's identity, as it is in the draft
        self.raw: dict[str, Any] = {}
        self.entries = QListWidget()
        self.entries.setAccessibleName(f"{self.noun.capitalize()} list")
        self.entries.currentRowChanged.connect(self._selected)
        self.entries.setMaximumWidth(self.fontMetrics().horizontalAdvance("M" * 16))
        self.add_button = QPushButton(f"A&dd {self.article} {self.noun}")
        self.add_button.clicked.connect(lambda: self.add())
        self.remove_button = QPushButton("Re&move")
        self.remove_button.clicked.connect(self.remove)
        self.form_widget = QWidget()
        self.form = QFormLayout(self.form_widget)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.addRow(self.problems)  # first: what the loader says about this entry is read before the fields
        self.build_form()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.entries, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left_layout.addLayout(buttons)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(left)
        # The fields keep their height at the top; the room left goes below them (not between a label and its
        # field, which a tall window made look unrelated).
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.form_widget)
        column.addStretch(1)
        row.addWidget(_scrolled(holder), 1)

    # -- to define per section
    def build_form(self) -> None:
        raise NotImplementedError

    def key(self, raw: dict[str, Any]) -> Hashable:
        return str(raw.get("id", ""))

    def caption(self, raw: dict[str, Any]) -> str:
        return f"{raw.get('name') or raw.get('id') or '(unnamed)'}"

    def fill(self, raw: dict[str, Any]) -> None:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def saved(self, text: str, values: dict[str, Any], original: Hashable) -> str:
        raise NotImplementedError

    def removed(self, text: str, original: Hashable) -> str:
        raise NotImplementedError

    def new_values(self, text: str) -> dict[str, Any]:
        raise NotImplementedError

    # -- shared
    def rows(self) -> list[dict[str, Any]]:
        rows = self.document.get(self.section, [])
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def entry_index(self) -> int | None:
        row = self.entries.currentRow()
        return row if row >= 0 else None

    def load(self, document: Document) -> None:
        self.document = document
        rows = self.rows()
        self.loading = True
        captions = [self.caption(row) for row in rows]
        if [self.entries.item(i).text() for i in range(self.entries.count())] != captions:
            row = self.entries.currentRow()
            self.entries.clear()
            self.entries.addItems(captions)
            for index, caption in enumerate(captions):  # the list is narrow: a long path is read in full here
                self.entries.item(index).setToolTip(caption)
            keys = [self.key(r) for r in rows]
            self.entries.setCurrentRow(keys.index(self.current) if self.current in keys else min(row, len(rows) - 1))
        self.loading = False
        self._show_current()

    def _selected(self, _row: int) -> None:
        if not self.loading:
            self._show_current()
            self.selected.emit()

    def _show_current(self) -> None:
        rows = self.rows()
        row = self.entries.currentRow()
        self.loading = True
        shown = 0 <= row < len(rows)  # an entry just added may hold no key yet: it is still one to fill in
        self.raw = rows[row] if shown else {}
        self.current = self.key(self.raw) if shown else None
        self.form_widget.setEnabled(shown)
        self.remove_button.setEnabled(shown)
        self.fill(self.raw)
        self.loading = False

    def changed(self, *_args: object) -> None:
        """A field was edited: stage the whole entry as one edit (applied after a short pause)."""
        if self.loading or self.current is None:
            return
        values, original = self.values(), self.current
        self.current = self.key(values)  # the identity it has once the edit is applied (a renamed id)

        def apply(text: str) -> str:
            return self.saved(text, values, original)

        self.stage(f"{self.section}:{original!r}", apply)

    def add(self, preset: dict[str, Any] | None = None) -> None:
        """A new entry (``preset`` fills some of its values, e.g. an attribute's path from the refusals)."""

        def apply(text: str) -> str:
            values = {**self.new_values(text), **(preset or {})}
            self.current = self.key(values)
            return self.saved(text, values, None)

        self.stage(f"{self.section}:add", apply)
        self.entries.setFocus()

    def remove(self) -> None:
        if self.current is None:
            return
        original = self.current
        self.current = None
        self.stage(f"{self.section}:remove:{original!r}", lambda text: self.removed(text, original))

    def purpose_choices(self) -> list[tuple[str, str]]:
        rows = self.document.get("purposes", [])
        return [(str(r.get("id", "")), f"{r.get('name', '')} ({r.get('id', '')})") for r in rows if isinstance(r, dict)]


class PurposesSection(EntrySection):
    title = "Purposes"
    table_names = ("purposes",)
    section, noun = "purposes", "purpose"

    def build_form(self) -> None:
        self.id, self.name, self.description = QLineEdit(), QLineEdit(), QLineEdit()
        self.basis = combo([("", "(choose the lawful basis)"), *LAWFUL_BASES.items()])
        self.interest = QLineEdit()
        self.interest.setPlaceholderText("Needed for Art. 6(1)(f): the interest pursued")
        self.subjects = QLineEdit()
        self.subjects.setPlaceholderText("e.g. Employees, Contractors")
        self.source = QLineEdit()
        self.dpia = combo([("", "not stated"), ("yes", "required"), ("no", "not required")])
        self.retention = RetentionField(account_allowed=False)
        for field in (self.id, self.name, self.description, self.interest, self.subjects, self.source):
            field.textEdited.connect(self.changed)
        for box in (self.basis, self.dpia):
            box.currentIndexChanged.connect(self.changed)
        self.retention.changed.connect(self.changed)
        self.form.addRow(_label("&Id (referenced by attributes and recipients)", self.id), self.id)
        self.form.addRow(_label("&Name", self.name), self.name)
        self.form.addRow(_label("Descri&ption", self.description), self.description)
        self.form.addRow(_label("&Lawful basis (Art. 6)", self.basis), self.basis)
        self.form.addRow(_label("Legitimate int&erest", self.interest), self.interest)
        self.form.addRow(_label("Data s&ubjects", self.subjects), self.subjects)
        self.form.addRow(_label("S&ource of the data", self.source), self.source)
        self.form.addRow(_label("DPIA (Art. 3&5)", self.dpia), self.dpia)
        self.form.addRow(_label("Deactivated accounts &kept", self.retention), self.retention)

    def fill(self, raw: dict[str, Any]) -> None:
        for field, key in ((self.id, "id"), (self.name, "name"), (self.description, "description"),
                           (self.interest, "legitimate_interest"), (self.source, "source")):  # fmt: skip
            put(field, raw.get(key, ""))
        put_list(self.subjects, raw.get("data_subjects", []))
        choose(self.basis, raw.get("lawful_basis", ""))
        dpia = raw.get("dpia", {})
        required = dpia.get("required") if isinstance(dpia, dict) else None
        choose(self.dpia, {True: "yes", False: "no"}.get(required, "") if isinstance(required, bool) else "")
        self.retention.fill(raw.get("deactivated_account_retention"))

    def values(self) -> dict[str, Any]:
        dpia = dict(self.raw.get("dpia", {})) if isinstance(self.raw.get("dpia"), dict) else {}
        dpia.pop("required", None)
        answer = self.dpia.currentData()
        if answer in ("yes", "no"):
            dpia = {"required": answer == "yes", **dpia}
        return {
            "id": self.id.text().strip(),
            "name": self.name.text().strip(),
            "description": self.description.text().strip(),
            "lawful_basis": str(self.basis.currentData() or ""),
            "legitimate_interest": self.interest.text().strip(),
            "data_subjects": split(self.subjects.text()),
            "source": self.source.text().strip(),
            "dpia": dpia,
            "deactivated_account_retention": self.retention.value(),
        }

    def saved(self, text: str, values: dict[str, Any], original: Hashable) -> str:
        return edit.set_purpose(text, values, str(original) if original is not None else None)

    def removed(self, text: str, original: Hashable) -> str:
        return edit.remove_purpose(text, str(original))

    def new_values(self, text: str) -> dict[str, Any]:
        return {"id": edit.new_id(text, "purposes", "new-purpose"), "name": "New purpose"}


class CategoriesSection(EntrySection):
    title = "Categories"
    table_names = ("categories",)
    section, noun = "categories", "category"

    def build_form(self) -> None:
        self.id, self.name, self.description = QLineEdit(), QLineEdit(), QLineEdit()
        self.retention = RetentionField(account_allowed=True)
        for field in (self.id, self.name, self.description):
            field.textEdited.connect(self.changed)
        self.retention.changed.connect(self.changed)
        self.form.addRow(_label("&Id (referenced by attributes)", self.id), self.id)
        self.form.addRow(_label("&Name", self.name), self.name)
        self.form.addRow(_label("Descri&ption", self.description), self.description)
        self.form.addRow(_label("&Kept after deactivation", self.retention), self.retention)

    def fill(self, raw: dict[str, Any]) -> None:
        for field, key in ((self.id, "id"), (self.name, "name"), (self.description, "description")):
            put(field, raw.get(key, ""))
        self.retention.fill(raw.get("retention"))

    def values(self) -> dict[str, Any]:
        return {
            "id": self.id.text().strip(),
            "name": self.name.text().strip(),
            "description": self.description.text().strip(),
            "retention": self.retention.value(),
        }

    def saved(self, text: str, values: dict[str, Any], original: Hashable) -> str:
        return edit.set_category(text, values, str(original) if original is not None else None)

    def removed(self, text: str, original: Hashable) -> str:
        return edit.remove_category(text, str(original))

    def new_values(self, text: str) -> dict[str, Any]:
        return {"id": edit.new_id(text, "categories", "new-category"), "name": "New category"}


class AttributesSection(EntrySection):
    title = "Attributes"
    table_names = ("attributes",)
    section, noun, article = "attributes", "attribute", "an"

    def build_form(self) -> None:
        self.resource = combo([("User", "User"), ("Group", "Group")])
        self.path = QLineEdit()
        self.path.setPlaceholderText('SCIM path, e.g. phoneNumbers.value or urn:…:enterprise:2.0:User:department')
        self.types = CheckList()
        self.types.setAccessibleName("Types held")
        self.types.setToolTip("Tick the types to hold (e.g. work): elements of other types stay outside the policy")
        self.types.setFlow(QListWidget.Flow.LeftToRight)  # six short words: side by side, not a scrolled column
        self.types.setWrapping(True)
        self.types.setMaximumHeight(self.fontMetrics().height() * 3 + 8)
        self.category = QComboBox()
        self.purposes = CheckList()
        self.special = QCheckBox("&Special-category data (Art. 9)")
        self.condition = combo([("", "(no Art. 9 condition)"), *ART9_CONDITIONS.items()])
        self.completers = {}
        for resource in ("User", "Group"):  # every path the schema has, so a name is picked rather than guessed
            completer = QCompleter(holdable_paths(resource), self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.completers[resource] = completer
        self.path.setCompleter(self.completers["User"])
        self.resource.currentIndexChanged.connect(
            lambda _i: self.path.setCompleter(self.completers[str(self.resource.currentData())])
        )
        self.path.textEdited.connect(self.changed)
        self.completers["User"].activated.connect(self.changed)
        self.completers["Group"].activated.connect(self.changed)
        for box in (self.resource, self.category, self.condition):
            box.currentIndexChanged.connect(self.changed)
        self.purposes.changed.connect(self.changed)
        self.types.changed.connect(self.changed)
        self.special.toggled.connect(self.changed)
        self.form.addRow(_label("&Resource", self.resource), self.resource)
        self.form.addRow(_label("&Path", self.path), self.path)
        self.form.addRow(_label("Only these &types (none ticked: every type)", self.types), self.types)
        self.form.addRow(_label("&Category", self.category), self.category)
        self.form.addRow(_label("P&urposes it serves (Space ticks)", self.purposes), self.purposes)
        self.form.addRow("", self.special)
        self.form.addRow(_label("Art. 9 co&ndition", self.condition), self.condition)

    def key(self, raw: dict[str, Any]) -> Hashable:
        return (str(raw.get("resource", "User")), str(raw.get("path", "")).casefold())

    def caption(self, raw: dict[str, Any]) -> str:
        types = raw.get("types")
        path = typed_label(str(raw.get("path", "")), types) if isinstance(types, list) and raw.get("path") else None
        return f"{raw.get('resource', 'User')} {path or raw.get('path') or '(no path yet)'}"

    def fill(self, raw: dict[str, Any]) -> None:
        choose(self.resource, raw.get("resource", "User"))
        put(self.path, raw.get("path", ""))
        # The types the path's attribute has (phoneNumbers: work, home, mobile…); the row is shown only for those.
        resource, path = str(raw.get("resource", "User")), str(raw.get("path", ""))
        kinds = canonical_types(resource, split_path(path)[1]) if resource in ("User", "Group") and path else ()
        types = raw.get("types", [])
        self.types.set_choices([(kind, kind) for kind in kinds], types if isinstance(types, list) else [])
        self.form.setRowVisible(self.types, bool(self.types.count()))
        categories = [r for r in self.document.get("categories", []) if isinstance(r, dict)]
        wanted = [("", "(choose the data category)")]  # a new entry has none: the first one would be a guess
        wanted += [(str(r.get("id", "")), f"{r.get('name', '')} ({r.get('id', '')})") for r in categories]
        if [(self.category.itemData(i), self.category.itemText(i)) for i in range(self.category.count())] != wanted:
            self.category.clear()
            for value, label in wanted:
                self.category.addItem(label, value)
        choose(self.category, raw.get("category", ""))
        purposes = raw.get("purposes", [])
        self.purposes.set_choices(self.purpose_choices(), purposes if isinstance(purposes, list) else [])
        self.special.setChecked(raw.get("special_category") is True)
        choose(self.condition, raw.get("art9_condition", ""))

    def values(self) -> dict[str, Any]:
        return {
            "resource": str(self.resource.currentData()),
            "path": self.path.text().strip(),
            "types": self._types(),
            "category": str(self.category.currentData() or ""),
            "purposes": self.purposes.checked(),
            "special_category": self.special.isChecked(),
            "art9_condition": str(self.condition.currentData() or ""),
        }

    def _types(self) -> list[str] | None:
        """The ticked types; None (the key goes, every type is held) when none is ticked, or when the path now names
        an attribute without types (the ticks were for the path before)."""
        resource, path = str(self.resource.currentData()), self.path.text().strip()
        if not path or not canonical_types(resource, split_path(path)[1]):
            return None
        return self.types.checked() or None

    def saved(self, text: str, values: dict[str, Any], original: Hashable) -> str:
        return edit.set_attribute(text, values, original if isinstance(original, tuple) else None)  # type: ignore[arg-type]

    def removed(self, text: str, original: Hashable) -> str:
        resource, path = original  # type: ignore[misc]
        return edit.remove_attribute(text, resource, path)

    def new_values(self, text: str) -> dict[str, Any]:
        """No category preselected: filed under the first one (identifiers, in the shipped policy), a phone number
        would take its retention and Art. 30 row unless the DPO noticed; the loader asks for one instead."""
        return {"path": ""}


class RecipientsSection(EntrySection):
    title = "Recipients"
    table_names = ("recipients",)
    section, noun = "recipients", "recipient"

    def build_form(self) -> None:
        self.id, self.name = QLineEdit(), QLineEdit()
        self.kind = combo([("", "(choose)"), *RECIPIENT_KINDS.items()])
        self.country = QLineEdit()
        self.country.setPlaceholderText("ISO 3166 code, e.g. DE")
        self.safeguard = QLineEdit()
        self.safeguard.setPlaceholderText("Outside the EEA without adequacy: e.g. EU SCC 2021/914")
        self.contract = QLineEdit()
        self.contract.setPlaceholderText("A processor's Art. 28 contract")
        self.purposes = CheckList()
        self.attributes = CheckList()
        self.group_attributes = CheckList()
        self.scope = ScopeField()
        for field in (self.id, self.name, self.country, self.safeguard, self.contract):
            field.textEdited.connect(self.changed)
        self.kind.currentIndexChanged.connect(self.changed)
        for widget in (self.purposes, self.attributes, self.group_attributes, self.scope):
            widget.changed.connect(self.changed)
        self.form.addRow(_label("&Id", self.id), self.id)
        self.form.addRow(_label("&Name", self.name), self.name)
        self.form.addRow(_label("&Kind", self.kind), self.kind)
        self.form.addRow(_label("C&ountry", self.country), self.country)
        self.form.addRow(_label("Transfer &safeguard", self.safeguard), self.safeguard)
        self.form.addRow(_label("Contract &link", self.contract), self.contract)
        self.form.addRow(_label("P&urposes (Space ticks)", self.purposes), self.purposes)
        self.form.addRow(_label("User attri&butes it receives", self.attributes), self.attributes)
        self.form.addRow(_label("&Group attributes it receives", self.group_attributes), self.group_attributes)
        self.form.addRow(_label("Whom it &receives", self.scope), self.scope)

    def _catalogue(self, resource: str) -> list[tuple[str, str]]:
        rows = [r for r in self.document.get("attributes", []) if isinstance(r, dict)]
        paths = [str(r.get("path", "")) for r in rows if r.get("resource", "User") == resource and r.get("path")]
        return [(path, path) for path in paths]

    def fill(self, raw: dict[str, Any]) -> None:
        for field, key in ((self.id, "id"), (self.name, "name"), (self.country, "country"),
                           (self.safeguard, "transfer_safeguard"), (self.contract, "contract_link")):  # fmt: skip
            put(field, raw.get(key, ""))
        choose(self.kind, raw.get("kind", ""))
        lists = (
            (self.purposes, "purposes", self.purpose_choices()),
            (self.attributes, "attributes", self._catalogue("User")),
            (self.group_attributes, "group_attributes", self._catalogue("Group")),
        )
        for widget, key, choices in lists:
            value = raw.get(key, [])
            widget.set_choices(choices, value if isinstance(value, list) else [])
        self.scope.fill(raw.get("scope", "all"))

    def values(self) -> dict[str, Any]:
        return {
            "id": self.id.text().strip(),
            "name": self.name.text().strip(),
            "kind": str(self.kind.currentData() or ""),
            "country": self.country.text().strip().upper(),
            "transfer_safeguard": self.safeguard.text().strip(),
            "contract_link": self.contract.text().strip(),
            "purposes": self.purposes.checked(),
            "attributes": self.attributes.checked(),
            "group_attributes": self.group_attributes.checked(),
            "scope": self.scope.value(),
        }

    def saved(self, text: str, values: dict[str, Any], original: Hashable) -> str:
        return edit.set_recipient(text, values, str(original) if original is not None else None)

    def removed(self, text: str, original: Hashable) -> str:
        return edit.remove_recipient(text, str(original))

    def new_values(self, text: str) -> dict[str, Any]:
        return {"id": edit.new_id(text, "recipients", "new-recipient"), "name": "New recipient", "kind": "internal"}
