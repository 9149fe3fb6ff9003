"""The policy editor: common edits as forms on a draft, checked live with the loader's messages, shown as a diff,
applied as one new version through the Apply dialog; comments of the file survive; keyboard-only where it counts."""

from __future__ import annotations

import ssl
import tomllib
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot
from test_ui_scaling import fits
from ui_support import PASSPHRASE, USER_SCHEMA, answer_passphrase_dialog

from app.policy import versions
from app.policy.edit import set_contact
from app.policy.in_force import PolicyInForce
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.main_window import MainWindow
from app.ui.policy.editor import PolicyEditorDialog
from app.ui.policy.view import PolicyPage


@pytest.fixture
def with_default(vault: Vault) -> Vault:
    apply_policy(vault, versions.default_policy_text(), "test")
    return vault


def page_for(vault: Vault, qtbot: QtBot, answers: list[bool] | None = None) -> PolicyPage:
    replies = list(answers or [])
    page = PolicyPage(
        vault,
        PolicyInForce(vault),
        choose_file=lambda _parent: None,
        confirm=lambda _parent, _title, _text: replies.pop(0),
        operator=lambda: "alice",
    )
    qtbot.addWidget(page)
    page.show()
    page.windowHandle().requestActivate()
    qtbot.waitUntil(page.isActiveWindow)
    qtbot.waitUntil(lambda: page.loaded is not None and page.edit_button.isEnabled())
    return page


def editor_for(vault: Vault, qtbot: QtBot, answers: list[bool] | None = None) -> PolicyEditorDialog:
    replies = list(answers or [])
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    # Unscripted questions (closing a changed draft at teardown) answer yes: an exception raised inside Qt's
    # closeEvent would take the test process down.
    editor = PolicyEditorDialog(
        vault, record, "alice", PolicyInForce(vault), lambda _p, _t, _q: replies.pop(0) if replies else True
    )
    qtbot.addWidget(editor)
    editor.show()
    return editor


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def wait_applied(qtbot: QtBot, vault: Vault, version: int) -> versions.PolicyRecord:
    def latest() -> int | None:
        with vault.read_connection() as conn:
            return versions.latest_version(conn)

    qtbot.waitUntil(lambda: latest() == version, timeout=15_000)
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    return record


def test_keyboard_only_dpo_contact_from_page_to_new_version(with_default: Vault, qtbot: QtBot) -> None:
    page = page_for(with_default, qtbot, answers=[True])
    qtbot.keyClick(page, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)  # &Edit the policy…
    qtbot.waitUntil(lambda: page.editor is not None and page.editor.isVisible())
    editor = page.editor
    assert editor is not None
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    assert "dpo.name" in editor.contacts.problems.text()  # the loader's warnings, on the page they concern
    qtbot.keyClick(editor, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)  # &DPO: name
    assert focused() is editor.contacts.fields["dpo"]["name"]
    for value in ("Dana Protect", "1 Road, Berlin", "dpo@acme.example"):
        qtbot.keyClicks(focused(), value)
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # Return in a form neither applies nor closes
    assert editor.isVisible()
    qtbot.waitUntil(lambda: 'name = "Dana Protect"' in editor.text)  # after the typing pause
    assert "dpo." not in editor.contacts.problems.text()
    assert editor.apply_button.isEnabled()
    for _part in range(editor.changes_row):  # Ctrl+PgDown from any field, as between tabs
        qtbot.keyClick(focused(), Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert editor.stack.currentIndex() == editor.changes_row  # What changes
    assert "Contact changed: dpo" in editor.summary.toPlainText()
    assert '+name = "Dana Protect"' in editor.text_diff.toPlainText()
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # &Apply… (a mnemonic animates a click)
    qtbot.waitUntil(lambda: editor.apply_dialog is not None)
    dialog = editor.apply_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=15_000)
    assert "Edited in the policy editor, from version 1" in [w.text() for w in dialog.findChildren(QLabel)]
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # &Apply… in the Apply dialog
    record = wait_applied(qtbot, with_default, 2)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert record.operator == "alice" and record.policy.dpo.email == "dpo@acme.example"
    assert comment_lines(record.text) == comment_lines(versions.default_policy_text())
    qtbot.waitUntil(lambda: page.history.rowCount() == 2)
    assert "version 2 applied" in page.message.text()


def test_purpose_category_attribute_and_scoped_recipient(with_default: Vault, qtbot: QtBot) -> None:
    editor = editor_for(with_default, qtbot, answers=[True])
    editor.nav.setCurrentRow(3)  # categories: add one, by keyboard
    categories = editor.categories
    categories.add_button.click()
    editor.flush()
    assert categories.entries.currentItem().text() == "New category"
    categories.id.setFocus()
    categories.id.selectAll()
    qtbot.keyClicks(categories.id, "phones")
    categories.name.selectAll()
    qtbot.keyClicks(categories.name, "Work phone numbers")
    qtbot.keyClicks(categories.retention.period, "account")
    qtbot.keyClicks(categories.retention.justification, "Needed while the account exists")
    editor.flush()
    assert not categories.problems.isVisible()

    editor.nav.setCurrentRow(4)  # attributes
    attributes = editor.attributes
    attributes.add_button.click()
    editor.flush()
    qtbot.keyClicks(attributes.path, "phoneNumbers.value")
    attributes.category.setCurrentIndex(attributes.category.findData("phones"))
    editor.flush()
    assert "names no purpose" in attributes.problems.text()  # live, with its line, for this entry only
    assert not editor.apply_button.isEnabled()
    attributes.purposes.setFocus()
    attributes.purposes.setCurrentRow(1)  # internal-directory
    qtbot.keyClick(attributes.purposes, Qt.Key.Key_Space)
    editor.flush()
    assert not attributes.problems.isVisible(), attributes.problems.text()

    editor.nav.setCurrentRow(5)  # recipients: a scoped one
    recipients = editor.recipients
    recipients.add_button.click()
    editor.flush()
    recipients.id.setText("phonebook")
    recipients.country.setText("DE")
    recipients.changed()
    recipients.purposes.set_choices(recipients.purpose_choices(), ["internal-directory"])
    recipients.attributes.set_choices(recipients._catalogue("User"), ["displayName", "phoneNumbers.value"])
    recipients.scope.some.setChecked(True)
    recipients.scope.groups.setText("Sales, Support")
    recipients.scope.filter.setText("title eq")  # not a usable filter: the loader says so
    recipients.changed()
    editor.flush()
    assert "not a usable SCIM filter" in recipients.problems.text()
    line = next(n for n, t in enumerate(editor.text.splitlines(), 1) if t.startswith("scope"))
    assert f"Line {line}: error" in recipients.problems.text()
    recipients.scope.filter.setText('title eq "Sales engineer"')
    recipients.changed()
    editor.flush()
    assert not errors(editor), editor.problem_list.item(0).text()
    editor.apply()
    dialog = editor.apply_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=15_000)
    assert any("Added to the catalogue: User phoneNumbers.value" in line for line in dialog.impact_lines())
    dialog.apply()
    record = wait_applied(qtbot, with_default, 2)
    policy = record.policy
    phonebook = next(r for r in policy.recipients if r.id == "phonebook")
    assert phonebook.scope.groups == ("Sales", "Support") and phonebook.scope.filter == 'title eq "Sales engineer"'
    assert phonebook.attributes == ("displayname", "phonenumbers.value")
    assert next(r for r in policy.attributes if r.path == "phoneNumbers.value").category == "phones"
    assert comment_lines(record.text) == comment_lines(versions.default_policy_text())


def errors(editor: PolicyEditorDialog) -> list[str]:
    return [p.message for p in editor.problems if not p.warning]


def test_file_page_hand_edit_and_forms_stay_in_step(with_default: Vault, qtbot: QtBot) -> None:
    editor = editor_for(with_default, qtbot, answers=[True])
    editor.nav.setCurrentRow(editor.file_row)
    editor.file.setPlainText(editor.text.replace('name = "Internal directory"', 'name = "Staff directory"'))
    editor.flush()
    editor.nav.setCurrentRow(2)
    editor.purposes.entries.setCurrentRow(1)
    assert editor.purposes.name.text() == "Staff directory"
    assert editor.purposes.entries.currentItem().text() == "Staff directory"
    editor.purposes.id.setText("directory")  # renamed in the form: every reference follows
    editor.purposes.changed()
    editor.flush()
    assert "internal-directory" not in editor.text and not errors(editor)
    typo = editor.text.replace('path = "title"\n', 'path = "title"\nspecial_catgory = true\n')  # hand-made typo
    editor.file.setPlainText(typo)
    editor.flush()
    line = next(n for n, text in enumerate(typo.splitlines(), 1) if text.startswith("special_catgory"))
    assert any(p.line == line and "did you mean special_category" in p.message for p in editor.problems)
    title_entry = next(i for i, a in enumerate(tomllib.loads(typo)["attributes"]) if a["path"] == "title")
    editor.nav.setCurrentRow(4)
    editor.attributes.entries.setCurrentRow(title_entry)  # the page shows that entry's messages
    assert f"Line {line}: error: unknown key 'special_catgory'" in editor.attributes.problems.text()
    assert editor.nav.item(4).text() == "Attributes  (1 error)"
    editor.file.setPlainText(typo.replace("special_catgory = true\n", ""))
    editor.flush()
    editor.nav.setCurrentRow(editor.file_row)
    editor.file.setPlainText(editor.text.replace("[controller]", "[controller"))  # broken TOML
    editor.flush()
    assert any("not valid TOML" in p.message for p in editor.problems)
    assert editor.nav.item(editor.file_row).text().startswith("The file")
    assert not editor.apply_button.isEnabled()
    editor.start_again()  # confirmed
    assert editor.text == editor.original and not editor.apply_button.isEnabled()


def test_closing_with_changes_asks_and_a_version_applied_meanwhile_is_not_undone(
    with_default: Vault, qtbot: QtBot
) -> None:
    editor = editor_for(with_default, qtbot, answers=[False, True])
    editor.handling.strip.setChecked(True)
    editor.flush()
    assert 'outside_schema = "strip"' in editor.text
    qtbot.keyClick(editor, Qt.Key.Key_Escape)  # "discard?" No
    assert editor.isVisible()
    apply_policy(with_default, set_contact(versions.default_policy_text(), "dpo", {"name": "Other"}), "bob")
    editor.apply()
    dialog = editor.apply_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: "was applied while you were editing" in dialog.status.text(), timeout=15_000)
    assert not dialog.apply_button.isEnabled()
    with with_default.read_connection() as conn:
        assert versions.latest_version(conn) == 2
    dialog.reject()
    editor.close_asking()  # "discard?" Yes
    assert not editor.isVisible()


def test_editor_fits_960_by_540(with_default: Vault, qtbot: QtBot) -> None:
    editor = editor_for(with_default, qtbot)
    for row in range(editor.nav.count()):
        editor.nav.setCurrentRow(row)
        assert fits(editor.minimumSizeHint()), (row, editor.minimumSizeHint().toTuple())


def visible_mnemonics(editor: PolicyEditorDialog) -> list[tuple[str, str]]:
    """(letter, text) of every visible button and label with a mnemonic; texts only, no wrapper kept."""
    import re

    from PySide6.QtWidgets import QAbstractButton, QLabel

    found = []
    for kind in (QAbstractButton, QLabel):
        for widget in editor.findChildren(kind):
            match = re.search(r"&(\w)", widget.text()) if widget.isVisibleTo(editor) else None
            if match:
                found.append((match.group(1).lower(), widget.text()))
    return found


def test_every_page_has_unambiguous_keyboard_shortcuts(with_default: Vault, qtbot: QtBot) -> None:
    """Alt+letter reaches each field: two visible mnemonics on one letter would only cycle the focus."""
    import gc

    editor = editor_for(with_default, qtbot)
    editor.nav.setCurrentRow(5)
    editor.recipients.add()  # the recipient form, with its scope choice, enabled
    editor.flush()
    clashes = []
    for row in range(editor.nav.count()):
        editor.nav.setCurrentRow(row)
        seen: dict[str, str] = {}
        for letter, text in visible_mnemonics(editor):
            if letter in seen:
                clashes.append((editor.nav.item(row).text(), seen[letter], text))
            seen[letter] = text
    gc.collect()
    assert not clashes


def test_an_attribute_added_in_the_editor_is_accepted_at_the_endpoint_at_once(
    running: tuple[MainWindow, ScimServer], vault: Vault, data_dir: Path, qtbot: QtBot
) -> None:
    """The whole loop against the real HTTPS server: refused, added through the editor, the next push stored."""
    window, server = running
    _info, secret = TokenStore(vault).create("entra")
    verify = ssl.create_default_context(cafile=str(ensure_self_signed(data_dir).cert_path))
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/scim+json"}
    body = {"schemas": [USER_SCHEMA], "userName": "ada@example.org",
            "phoneNumbers": [{"type": "work", "value": "+44 20 7946 0000"}]}  # fmt: skip
    with httpx.Client(base_url=server.base_url, verify=verify, timeout=30) as http:
        refused = http.post("/Users", json=body, headers=headers)
    assert refused.status_code == 400 and "phoneNumbers" in refused.text

    page = window.policy_page
    page.confirm = lambda _parent, _title, _text: True
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.edit_button.isEnabled(), timeout=10_000)
    page.open_editor(attribute="phoneNumbers.value")  # as the refusals view hands an attribute over
    editor = page.editor
    assert editor is not None
    assert editor.stack.currentWidget() is editor.attributes and editor.attributes.path.text() == "phoneNumbers.value"
    assert "names no purpose" in editor.attributes.problems.text()  # what is left to decide, said on the page
    editor.attributes.category.setCurrentIndex(editor.attributes.category.findData("work-contact"))
    editor.attributes.purposes.set_choices(editor.attributes.purpose_choices(), ["internal-directory"])
    editor.attributes.changed()
    editor.flush()
    assert not errors(editor), [p.message for p in editor.problems]
    editor.apply()
    dialog = editor.apply_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=15_000)
    answer_passphrase_dialog(PASSPHRASE)  # applying asks for the passphrase again
    dialog.apply()
    qtbot.waitUntil(lambda: page.history.rowCount() == 2, timeout=15_000)

    with httpx.Client(base_url=server.base_url, verify=verify, timeout=30) as http:
        stored = http.post("/Users", json=body, headers=headers)
        assert stored.status_code == 201, stored.text
        read = http.get(f"/Users/{stored.json()['id']}", headers=headers).json()
    assert read["phoneNumbers"][0]["value"] == "+44 20 7946 0000"


def test_locking_closes_the_editor_without_a_question_and_keeps_the_draft(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, _server = running
    page = window.policy_page

    def never(_parent: QWidget, _title: str, _question: str) -> bool:
        raise AssertionError("a question in front of the lock screen")

    page.confirm = never
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.edit_button.isEnabled(), timeout=10_000)
    page.open_editor()
    editor = page.editor
    assert editor is not None
    editor.handling.strip.setChecked(True)
    editor.flush()
    window.lock()
    assert not editor.isVisible()
    window.unlock()
    page.open_editor()
    assert page.editor is not None and page.editor is not editor
    assert 'outside_schema = "strip"' in page.editor.text and page.editor.handling.strip.isChecked()
    assert "Continuing the draft" in page.message.text()
    page.editor.confirm = lambda _parent, _title, _question: True
    page.editor.close_asking()  # discarded on purpose: nothing kept
    assert page.kept_draft is None


def test_a_type_filter_is_ticked_by_keyboard_and_named_in_the_changes(with_default: Vault, qtbot: QtBot) -> None:
    """Work phone numbers without mobile and fax: the types the path's attribute has are offered, Space ticks one,
    the file gets ``types = ["work"]`` and the list and the summary name the entry as a SCIM value path."""
    editor = editor_for(with_default, qtbot, answers=[True])
    editor.nav.setCurrentRow(4)  # attributes
    attributes = editor.attributes
    assert not attributes.form.isRowVisible(attributes.types)  # userName: no types to filter by
    attributes.add_button.click()
    editor.flush()
    qtbot.keyClicks(attributes.path, "phoneNumbers.value")
    editor.flush()
    assert attributes.form.isRowVisible(attributes.types)
    offered = [attributes.types.item(i).text() for i in range(attributes.types.count())]
    assert offered == ["work", "home", "mobile", "fax", "pager", "other"] and attributes.types.checked() == []
    assert "'category' is required" in attributes.problems.text()  # none preselected: the DPO chooses
    assert attributes.category.currentText() == "(choose the data category)"
    attributes.category.setCurrentIndex(attributes.category.findData("work-contact"))
    attributes.types.setFocus()
    attributes.types.setCurrentRow(0)
    qtbot.keyClick(attributes.types, Qt.Key.Key_Space)
    attributes.purposes.set_choices(attributes.purpose_choices(), ["internal-directory"])
    attributes.changed()
    editor.flush()
    assert not errors(editor), [p.message for p in editor.problems]
    entry = next(a for a in tomllib.loads(editor.text)["attributes"] if a["path"] == "phoneNumbers.value")
    assert entry["types"] == ["work"]
    assert attributes.entries.currentItem().text() == 'User phoneNumbers[type eq "work"].value'
    editor.nav.setCurrentRow(editor.changes_row)
    assert 'Attribute added: User phoneNumbers[type eq "work"].value' in editor.summary.toPlainText()
    editor.nav.setCurrentRow(4)
    # Unticking holds every type again (the key goes); a path without types drops the ticks with it.
    qtbot.keyClick(attributes.types, Qt.Key.Key_Space)
    editor.flush()
    assert "types" not in next(a for a in tomllib.loads(editor.text)["attributes"] if a["path"] == "phoneNumbers.value")
    qtbot.keyClick(attributes.types, Qt.Key.Key_Space)
    attributes.path.selectAll()
    qtbot.keyClicks(attributes.path, "nickName")
    editor.flush()
    assert "types" not in next(a for a in tomllib.loads(editor.text)["attributes"] if a["path"] == "nickName")
    assert not attributes.form.isRowVisible(attributes.types)
