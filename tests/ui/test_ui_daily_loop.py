"""The DPO's daily loop end to end (issue 14 §2–§3), on the real app window, the real HTTPS endpoint on loopback
and a real vault: an Entra-default push is refused → "Outside the policy" lists what, per type → the DPO adds the
work phone number to the catalogue (dialog, impact preview, passphrase) → the policy version changes and only the
mobile and fax numbers stay outside → the DPO switches the policy to strip → the next push of the same user is
stored, with its work number and without the others. Keyboard where the DPO would use it."""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui_support import PASSPHRASE, answer_passphrase_dialog

from app.policy import versions
from app.scim.server import ScimServer
from app.setup.tokens import TokenStore
from app.store.models import AttributeValue, ScimResource, with_paths
from app.ui.main_window import MainWindow
from app.ui.outside_policy.view import OutsidePolicyPage
from app.ui.policy.apply_dialog import ApplyPolicyDialog
from tests.conftest import LiveServer
from tests.entra_support import MOBILE, entra_default_user

WORK = 'phoneNumbers[type eq "work"]'
MOBILE_PATH = 'phoneNumbers[type eq "mobile"]'
FAX = 'phoneNumbers[type eq "fax"]'
UNTYPED = "phoneNumbers[type missing]"


def push(window: MainWindow, server: ScimServer, token: str, user: dict[str, object]) -> tuple[int, str]:
    live = LiveServer(server, token, window.vault.path.parent / "tls-cert.pem", window.vault.path.parent)
    with live.client() as http:
        response = http.post("/Users", json=user)
    return response.status_code, response.text


def paths_listed(page: OutsidePolicyPage) -> set[str]:
    return {str(page.proxy.index(row, 0).data()) for row in range(page.proxy.rowCount())}


def row_cells(page: OutsidePolicyPage, path: str) -> list[str]:
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == path)
    return [str(page.proxy.index(row, column).data()) for column in range(page.proxy.columnCount())]


def select_by_keyboard(qtbot: QtBot, page: OutsidePolicyPage, path: str) -> None:
    page.table.setFocus()
    page.table.selectionModel().setCurrentIndex(page.proxy.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    for _ in range(page.proxy.rowCount()):
        current = page.table.currentIndex()
        if current.isValid() and page.proxy.index(current.row(), 0).data() == path:
            qtbot.keyClick(page.table, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)  # select the current row
            if not page.selected_rows():
                qtbot.keyClick(page.table, Qt.Key.Key_Space)
            assert [row.path for row in page.selected_rows()] == [path]
            return
        qtbot.keyClick(page.table, Qt.Key.Key_Down)
    raise AssertionError(path)


def apply_with_passphrase(qtbot: QtBot, page: OutsidePolicyPage) -> tuple[ApplyPolicyDialog, list[str]]:
    applying = page.apply_dialog
    assert applying is not None
    qtbot.waitUntil(applying.apply_button.isEnabled, timeout=15_000)
    impact = applying.impact_lines()
    answer_passphrase_dialog(PASSPHRASE)  # applying asks for the passphrase again
    applying.apply_button.setFocus()
    qtbot.keyClick(applying.apply_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: applying.record is not None, timeout=15_000)
    return applying, impact


def policy_version(window: MainWindow) -> int | None:
    with window.vault.read_connection() as conn:
        return versions.latest_version(conn)


def test_a_refused_push_decided_on_the_outside_page_is_stored_at_the_next_push(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, server = running
    _info, token = TokenStore(window.vault).create("Microsoft Entra ID")
    user = entra_default_user(7)
    status, body = push(window, server, token, user)
    assert status == 400 and MOBILE.format(n=7) not in body
    before = policy_version(window)

    # The page, reached from the keyboard, lists what was refused per type, never a value.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    index = window.pages.indexOf(window.outside_page)
    qtbot.keyClick(window, Qt.Key(Qt.Key.Key_1 + index), Qt.KeyboardModifier.ControlModifier)
    page = window.outside_page
    page.confirm = lambda *_args: True
    qtbot.waitUntil(lambda: {WORK, MOBILE_PATH, FAX} <= paths_listed(page), timeout=10_000)
    assert row_cells(page, WORK)[1:5] == ["User", "Microsoft Entra ID", "1", "0"]

    # Add the work phone number: the dialog offers the attribute's types with only "work" ticked.
    select_by_keyboard(qtbot, page, WORK)
    page.add_button.setFocus()
    qtbot.keyClick(page.add_button, Qt.Key.Key_Space)
    dialog = page.add_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.path.text() == "phoneNumbers.value" and dialog.chosen_types() == ["work"]
    assert dialog.scope.text() == (
        "Only phoneNumbers of type work will be held; home, mobile, fax, pager and other stay outside the policy."
    )
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)  # "&Types held"
    assert dialog.types.hasFocus()
    dialog.types.setCurrentRow(2)
    qtbot.keyClick(dialog.types, Qt.Key.Key_Space)  # mobile too…
    assert dialog.chosen_types() == ["work", "mobile"] and "work and mobile will be held" in dialog.scope.text()
    qtbot.keyClick(dialog.types, Qt.Key.Key_Space)  # …no: work only
    assert dialog.chosen_types() == ["work"]
    dialog.category.setCurrentIndex(dialog.category.findData("work-contact"))
    dialog.purposes.setFocus()
    dialog.purposes.setCurrentRow(1)  # internal-directory
    dialog.purposes.currentItem().setCheckState(Qt.CheckState.Checked)
    dialog.justification.setFocus()
    qtbot.keyClicks(dialog.justification, "Colleagues call each other at work")
    qtbot.keyClick(dialog.justification, Qt.Key.Key_Tab)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # the default button: Check the impact…
    assert dialog.proposed_text is not None and 'types = ["work"]' in dialog.proposed_text
    applying, impact = apply_with_passphrase(qtbot, page)
    assert 'Added to the catalogue: User phoneNumbers[type eq "work"].value.' in impact
    labels = [label.text() for label in applying.findChildren(QLabel)]
    assert 'Add phoneNumbers[type eq "work"].value (User) to the catalogue' in labels
    assert before is not None and policy_version(window) == before + 1

    # Only the work numbers were admitted: mobile and fax are still outside, and still refused.
    qtbot.waitUntil(lambda: WORK not in paths_listed(page), timeout=10_000)
    assert {MOBILE_PATH, FAX} <= paths_listed(page)
    status, body = push(window, server, token, user)
    assert status == 400 and 'phoneNumbers[type eq \\"mobile\\"]' in body
    assert 'phoneNumbers[type eq \\"work\\"]' not in body

    # Decide the rest: strip. The next push of the same user is stored, with the work number only.
    qtbot.waitUntil(page.strip_button.isEnabled, timeout=10_000)
    page.strip_button.setFocus()
    qtbot.keyClick(page.strip_button, Qt.Key.Key_Space)
    apply_with_passphrase(qtbot, page)
    assert policy_version(window) == before + 2
    status, body = push(window, server, token, user)
    assert status == 201, body
    with window.vault.read_connection() as conn:
        (document,) = [json.loads(d) for d in conn.execute(select(ScimResource.document)).scalars()]
        indexed = json.dumps([list(r) for r in conn.execute(with_paths(AttributeValue.value_str))])
    assert document["phoneNumbers"] == [{"type": "work", "value": "+44 20 7946 0007"}]
    assert MOBILE.format(n=7) not in indexed and "+44 20 7946 1007" not in indexed
    page.refresh()
    qtbot.waitUntil(lambda: row_cells(page, MOBILE_PATH)[3:5] == ["2", "1"], timeout=10_000)  # refused twice, stripped


def test_a_mobile_number_refused_next_to_held_work_numbers_widens_that_entry(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    """A path is listed once: adding the mobile type to a catalogue that holds work numbers widens the entry
    (was: a second entry, which the loader refused as "listed twice")."""
    window, server = running
    from app.policy.edit import add_attribute
    from app.targets.policy_change import apply_policy

    work_only = add_attribute(versions.default_policy_text(), "User", "phoneNumbers.value", "work-contact",
                              ["internal-directory"], "Colleagues call each other at work", ["work"])  # fmt: skip
    apply_policy(window.vault, work_only, "dpo")
    _info, token = TokenStore(window.vault).create("Microsoft Entra ID")
    phones = [{"type": "work", "value": "+44 20 7946 0001"}, {"type": "mobile", "value": MOBILE.format(n=1)}]
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "on-call@example.test",
            "phoneNumbers": phones}  # fmt: skip
    assert push(window, server, token, user)[0] == 400
    page = window.outside_page
    page.confirm = lambda *_args: True
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: paths_listed(page) == {MOBILE_PATH}, timeout=10_000)
    select_by_keyboard(qtbot, page, MOBILE_PATH)
    qtbot.keyClick(page.add_button, Qt.Key.Key_Space)
    dialog = page.add_dialog
    assert dialog is not None and dialog.existing is not None and dialog.path.isReadOnly()
    assert dialog.chosen_types() == ["work", "mobile"] and dialog.chosen_purposes() == ["internal-directory"]
    assert dialog.category.currentData() == "work-contact"
    dialog.justification.setPlainText("On-call engineers are reached on their mobile")
    dialog.propose()
    assert dialog.proposed_text is not None
    assert dialog.proposed_text.count('path = "phoneNumbers.value"') == 1
    assert (
        '# Why: Colleagues call each other at work\n# Why: On-call engineers are reached on their mobile\n'
        'path = "phoneNumbers.value"\ntypes = ["work", "mobile"]\n'
    ) in dialog.proposed_text
    _applying, impact = apply_with_passphrase(qtbot, page)
    assert "`User phoneNumbers.value` now holds work, mobile (was work)." in impact
    qtbot.waitUntil(lambda: paths_listed(page) == set(), timeout=10_000)
    assert push(window, server, token, user)[0] == 201


def test_an_untyped_phone_number_is_offered_no_type_filter_but_a_conscious_widening(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    """A phone number sent with no type, next to a catalogue holding work numbers: no type filter can hold it.
    Before, the dialog offered to widen the typed entry (work ticked: the apply would still refuse it) or, with
    nothing ticked, held every type without saying so."""
    window, server = running
    from app.policy.edit import add_attribute
    from app.targets.policy_change import apply_policy

    work_only = add_attribute(versions.default_policy_text(), "User", "phoneNumbers.value", "work-contact",
                              ["internal-directory"], "Colleagues call each other at work", ["work"])  # fmt: skip
    apply_policy(window.vault, work_only, "dpo")
    _info, token = TokenStore(window.vault).create("Microsoft Entra ID")
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "reception@example.test",
            "phoneNumbers": [{"value": "+44 20 7946 0555"}]}  # fmt: skip
    status, body = push(window, server, token, user)
    assert status == 400 and "0555" not in body
    page = window.outside_page
    page.confirm = lambda *_args: True
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: paths_listed(page) == {UNTYPED}, timeout=10_000)
    select_by_keyboard(qtbot, page, UNTYPED)
    qtbot.keyClick(page.add_button, Qt.Key.Key_Space)
    dialog = page.add_dialog
    assert dialog is not None and dialog.isVisible()
    said = " ".join(label.text() for label in dialog.findChildren(QLabel) if label.isVisible())
    assert "These phoneNumbers came with no type." in said and "no choice of types can hold them" in said
    assert "mapping send a type" in said and "hold every type of phoneNumbers, untyped ones included" in said
    assert "a widening, justified only if every type is needed for the purposes (Art. 5(1)(c))" in said
    assert not dialog.types.isVisible() and dialog.types.count() == 0  # no type to tick would hold them
    assert dialog.every_type.isVisible() and not dialog.every_type.isChecked()  # widening is never a default
    assert dialog.scope.text() == "Nothing is widened until you tick it: untyped phoneNumbers stay refused."
    assert dialog.category.currentData() == "work-contact" and dialog.chosen_purposes() == ["internal-directory"]
    dialog.justification.setPlainText("The reception desk's number comes without a type")
    dialog.propose()
    assert dialog.proposed_text is None and "tick 'Hold every type'" in dialog.error.text()

    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)  # "Hold &every type…"
    qtbot.waitUntil(dialog.every_type.isChecked)  # a mnemonic clicks after a short animation
    assert dialog.scope.text() == (
        "Every phoneNumbers will be held (now: work only): home, mobile, fax, pager, other, types outside the "
        "schema's list and untyped ones."
    )
    assert dialog.scope.height() >= dialog.scope.heightForWidth(dialog.scope.width())  # the whole sentence shows
    dialog.propose()
    assert dialog.proposed_text is not None and 'types = ["work"]' not in dialog.proposed_text
    applying, impact = apply_with_passphrase(qtbot, page)
    # What the apply says is what it does: every type, untyped ones included.
    assert "`User phoneNumbers.value` now holds every type, and elements sent with no type (was work)." in impact
    labels = [label.text() for label in applying.findChildren(QLabel)]
    assert "Hold every type of phoneNumbers.value (User), those with no type included (was work)" in labels
    qtbot.waitUntil(lambda: paths_listed(page) == set(), timeout=10_000)
    assert push(window, server, token, user)[0] == 201
