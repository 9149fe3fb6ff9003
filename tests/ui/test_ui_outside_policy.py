""""Outside the policy" end to end (issue 14 §2): the real app window and HTTPS endpoint, Entra-default users
refused under the shipped policy, the page reached by keyboard, then each decision: the IdP instruction, adding
an attribute to the catalogue (the next push that carries it is stored), switching to strip (the next Entra push
is stored). Schema refusals raise a configuration alert, not an incident badge."""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui_support import PASSPHRASE, answer_passphrase_dialog

from app.scim.server import ScimServer
from app.setup.tokens import TokenStore
from app.siem.alerts import AlertRaised
from app.store.models import ScimResource
from app.ui.main_window import MainWindow
from app.ui.outside_policy.view import OutsidePolicyPage
from tests.conftest import LiveServer
from tests.entra_support import MOBILE, USER_SCHEMA, entra_default_user

MOBILE_PATH = 'phoneNumbers[type eq "mobile"]'


def _push(window: MainWindow, server: ScimServer, users: list[dict[str, object]], token: str) -> list[int]:
    live = LiveServer(server, token, window.vault.path.parent / "tls-cert.pem", window.vault.path.parent)
    with live.client() as http:
        return [http.post("/Users", json=user).status_code for user in users]


def _entra_token(window: MainWindow) -> str:
    _info, secret = TokenStore(window.vault).create("Microsoft Entra ID")
    return secret


def _open_by_keyboard(qtbot: QtBot, window: MainWindow) -> OutsidePolicyPage:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    index = window.pages.indexOf(window.outside_page)
    qtbot.keyClick(window, Qt.Key(Qt.Key.Key_1 + index), Qt.KeyboardModifier.ControlModifier)  # View → page
    assert window.pages.currentWidget() is window.outside_page
    return window.outside_page


def _select(page: OutsidePolicyPage, path: str) -> None:
    for row in range(page.proxy.rowCount()):
        if page.proxy.index(row, 0).data() == path:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            page.table.selectionModel().select(page.proxy.index(row, 0), flags)
            return
    raise AssertionError(path)


def _cells(page: OutsidePolicyPage) -> list[list[str]]:
    model = page.proxy
    return [[str(model.index(r, c).data()) for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_refused_entra_users_are_listed_by_type_and_client_without_values(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, server = running
    assert _push(window, server, [entra_default_user(n) for n in range(3)], _entra_token(window)) == [400] * 3
    page = _open_by_keyboard(qtbot, window)
    qtbot.waitUntil(lambda: page.proxy.rowCount() >= 7, timeout=10_000)
    rows = {cells[0]: cells for cells in _cells(page)}
    assert rows[MOBILE_PATH][1:5] == ["User", "Microsoft Entra ID", "3", "0"]
    assert {"name.formatted", "preferredLanguage", 'addresses[type eq "work"]'} <= set(rows)
    assert "3 requests refused" in page.summary.text() and "refuses such requests" in page.summary.text()
    shown = json.dumps(_cells(page)) + page.summary.text() + page.instruction.toPlainText()
    assert all(MOBILE.format(n=n) not in shown and f"Given{n:04d}" not in shown for n in range(3))
    # The instruction for the IdP the token is named after, in that IdP's words.
    assert page.idp.currentData() == "entra"
    text = page.instruction.toPlainText()
    assert text.startswith("In Microsoft Entra ID: Enterprise applications") and "remove these" in text
    assert 'mobile → phoneNumbers[type eq "mobile"].value' in text
    _select(page, MOBILE_PATH)
    assert page.instruction.toPlainText().endswith('  - mobile → phoneNumbers[type eq "mobile"].value')
    page.copy_button.setFocus()
    qtbot.keyClick(page.copy_button, Qt.Key.Key_Space)
    assert QGuiApplication.clipboard().text() == page.instruction.toPlainText()
    # The Overview says it too, with a way there.
    window.pages.setCurrentWidget(window.overview_page)
    qtbot.waitUntil(lambda: "outside the policy" in window.overview_page.fields["outside"].text(), timeout=10_000)
    qtbot.mouseClick(window.overview_page.review_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is page


def test_adding_the_attribute_lets_the_next_push_be_stored(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, server = running
    token = _entra_token(window)
    user = {"schemas": [USER_SCHEMA], "userName": "lang@example.test", "preferredLanguage": "en-GB"}
    assert _push(window, server, [user], token) == [400]
    page = _open_by_keyboard(qtbot, window)
    page.confirm = lambda *_args: True
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 1, timeout=10_000)
    _select(page, "preferredLanguage")
    qtbot.keyClick(page.add_button, Qt.Key.Key_Space)
    dialog = page.add_dialog
    assert dialog is not None and dialog.isVisible() and dialog.path.text() == "preferredLanguage"
    dialog.windowHandle().requestActivate()  # as the window manager does for a new dialog
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.propose()
    assert "Choose the data category" in dialog.error.text()  # none preselected: the DPO decides
    dialog.category.setCurrentIndex(dialog.category.findData("work-contact"))
    dialog.propose()
    assert "at least one purpose" in dialog.error.text()  # refused with the reason, nothing proposed
    dialog.purposes.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.propose()
    assert "Say why" in dialog.error.text()
    dialog.justification.setFocus()
    qtbot.keyClicks(dialog.justification, "Shown in the directory in the person's language")
    qtbot.keyClick(dialog.justification, Qt.Key.Key_Tab)
    assert not dialog.justification.hasFocus()  # Tab leaves the box
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # the default button: Check the impact…
    assert dialog.proposed_text is not None and "# Why: Shown in the directory" in dialog.proposed_text
    applying = page.apply_dialog
    assert applying is not None
    qtbot.waitUntil(applying.apply_button.isEnabled, timeout=10_000)
    answer_passphrase_dialog(PASSPHRASE)
    applying.apply()
    qtbot.waitUntil(lambda: applying.record is not None, timeout=15_000)
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 0, timeout=10_000)  # admitted: nothing left to decide
    assert _push(window, server, [user], token) == [201]
    with window.vault.read_connection() as conn:
        (document,) = conn.execute(select(ScimResource.document)).scalars()
    assert json.loads(document)["preferredLanguage"] == "en-GB"


def test_switching_to_strip_stores_the_next_entra_push(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, server = running
    token = _entra_token(window)
    assert _push(window, server, [entra_default_user(1)], token) == [400]
    page = _open_by_keyboard(qtbot, window)
    page.confirm = lambda *_args: True
    qtbot.waitUntil(lambda: page.proxy.rowCount() > 0 and page.strip_button.isEnabled(), timeout=10_000)
    qtbot.keyClick(page.strip_button, Qt.Key.Key_Space)
    applying = page.apply_dialog
    assert applying is not None
    qtbot.waitUntil(applying.apply_button.isEnabled, timeout=10_000)
    assert any("strip" in line for line in applying.impact_lines())
    answer_passphrase_dialog(PASSPHRASE)
    applying.apply()
    qtbot.waitUntil(lambda: applying.record is not None, timeout=15_000)
    qtbot.waitUntil(lambda: not page.strip_button.isEnabled(), timeout=10_000)
    assert _push(window, server, [entra_default_user(2)], token) == [201]
    page.refresh()  # the page re-reads when shown or on Refresh (F5)
    qtbot.waitUntil(lambda: "stored without" in page.summary.text(), timeout=10_000)
    rows = {cells[0]: cells for cells in _cells(page)}
    assert rows[MOBILE_PATH][3:5] == ["1", "1"]  # refused once, then stripped once


def test_a_schema_alert_is_a_configuration_message_not_an_incident(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, _server = running
    index = window.pages.indexOf(window.incidents_page)
    window.show_alert(AlertRaised(1, "schema_rejections", 25, "schema-violation rejections", configuration=True))
    assert window.pages.tabText(index) == "Incidents" and window.unseen_alerts == 0
    assert "Outside the policy" in window.statusBar().currentMessage()
    window.show_alert(AlertRaised(2, "mass_deprovisioning", 60, "SCIM deletes"))
    assert window.pages.tabText(index) == "Incidents (1 new)"
