"""Identities view, Tokens page and server panel; the last test drives the real HTTPS server."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from ui_support import (
    BASE_TIME,
    PASSPHRASE,
    USER_SCHEMA,
    add_member,
    answer_passphrase_dialog,
    group_row,
    insert_rows,
    user_row,
)

from app.core.events import ResourcesChanged
from app.policy.loader import load_policy
from app.policy.minimise import Minimiser
from app.policy.versions import default_policy_text
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.identities.view import IdentitiesView, ResourceBrowser, search_clause
from app.ui.main_window import MainWindow
from app.ui.tokens import TokensPage
from tests.policy_support import work_contacts_text


# -- identities view -----------------------------------------------------------------------------------
def test_search_box_takes_filters_or_plain_text(populated: Vault, qtbot: QtBot) -> None:
    browser = ResourceBrowser(populated, "User")
    qtbot.addWidget(browser)
    qtbot.waitUntil(lambda: browser.count_label.text() == "2,000 of 2,000 users")
    browser.search.setText('userName sw "user0001"')
    browser.apply_search()
    assert browser.search_note.text() == "SCIM filter"
    qtbot.waitUntil(lambda: browser.count_label.text() == "10 of 2,000 users" and browser.model.rowCount() == 10)
    browser.search.setText('Person 4"2')  # not a filter; the quote must not break out of the string
    browser.apply_search()
    assert browser.search_note.text().startswith("Text search")
    qtbot.waitUntil(lambda: browser.count_label.text() == "0 of 2,000 users")
    browser.search.setText("person 42")
    browser.apply_search()
    qtbot.waitUntil(lambda: browser.model.rowCount() > 0 and browser.model.matching > 0)
    assert all(browser.model.data(browser.model.index(r, 1)) == "Person 42" for r in range(browser.model.rowCount()))


def test_header_sorts_only_indexed_columns(populated: Vault, qtbot: QtBot) -> None:
    browser = ResourceBrowser(populated, "User")
    qtbot.addWidget(browser)
    header = browser.table.horizontalHeader()
    qtbot.waitUntil(lambda: browser.model.rowCount() == 500)
    header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)  # what a click on "Display name" does
    assert browser.model.sort_key == "displayName"
    qtbot.waitUntil(lambda: browser.model.rowCount() == 500)
    header.setSortIndicator(2, Qt.SortOrder.AscendingOrder)  # externalId: not indexed, not sortable
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (1, Qt.SortOrder.DescendingOrder)
    assert browser.model.sort_key == "displayName"


def test_group_text_search_uses_display_name_only() -> None:
    where, note = search_clause("Group", "eng")
    assert where is not None and note == "Text search: display name contains “eng”"
    assert search_clause("User", "  ") == (None, "")


def test_plain_text_typed_in_the_box_is_a_search_not_a_broken_filter(vault: Vault, qtbot: QtBot) -> None:
    """Issue 14 §7, keyboard only: "ada lovelace" searches names and e-mail; no "not valid SCIM filter syntax"."""
    extra = {"emails": [{"value": "countess@example.org", "type": "work"}]}
    insert_rows(vault, [user_row("ada", "Ada Lovelace", datetime.now(UTC), **extra), user_row("bob", "Bob", BASE_TIME)])
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    qtbot.waitUntil(lambda: browser.count_label.text() == "2 of 2 users")
    qtbot.keyClicks(browser.search, "ada lovelace")
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    assert browser.search_note.text() == "Text search: user name, display name or e-mail contains “ada lovelace”"
    assert "filter" not in browser.search_note.text()
    qtbot.waitUntil(lambda: browser.count_label.text() == "1 of 2 users")
    browser.search.clear()
    qtbot.keyClicks(browser.search, "countess")  # found by its e-mail address
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: browser.count_label.text() == "1 of 2 users")


def test_a_filter_on_an_attribute_not_held_says_why_it_is_empty(vault: Vault, qtbot: QtBot) -> None:
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    browser.held = lambda: Minimiser(load_policy(default_policy_text()))  # the shipped policy: no phone numbers
    qtbot.keyClicks(browser.search, 'phoneNumbers.value sw "+44"')
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    note = browser.search_note.text()
    assert "'phoneNumbers.value' is not held under the policy in force" in note and "no stored users" in note
    browser.search.clear()
    qtbot.keyClicks(browser.search, 'userName sw "a"')
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    assert browser.search_note.text() == "SCIM filter"


def test_a_filter_on_a_type_not_held_says_why_it_is_empty(vault: Vault, qtbot: QtBot) -> None:
    """E-mails held for type work only: a home address is never stored, and the note says so with the types held."""
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    browser.held = lambda: Minimiser(load_policy(work_contacts_text()))
    qtbot.keyClicks(browser.search, 'emails[type eq "home"].value eq "ada@home.example.test"')
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    assert browser.search_note.text() == (
        "SCIM filter: 'emails[type eq \"home\"]' is not held under the policy in force (only emails of type work "
        "are held), so no stored users can match."
    )
    assert "ada@home" not in browser.search_note.text()
    browser.search.clear()
    qtbot.keyClicks(browser.search, 'emails[type eq "work"].value sw "a"')
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    assert browser.search_note.text() == "SCIM filter"


def test_groups_show_their_member_count(vault: Vault, qtbot: QtBot) -> None:
    users = insert_rows(vault, [user_row(name, name, BASE_TIME) for name in ("a", "b", "c")])
    (group_id, _empty) = insert_rows(vault, [group_row("Engineers"), group_row("Empty")])
    for user_id in users:
        add_member(vault, group_id, user_id)
    browser = ResourceBrowser(vault, "Group")
    qtbot.addWidget(browser)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2)
    column = [browser.model.headerData(c, Qt.Orientation.Horizontal) for c in range(browser.model.columnCount())]
    members = column.index("Members")
    cells = {browser.model.data(browser.model.index(r, 0)): browser.model.data(browser.model.index(r, members))
             for r in range(2)}  # fmt: skip
    assert cells == {"Engineers": "3", "Empty": "0"}


def test_detail_pane_shows_every_attribute_as_plain_text(vault: Vault, qtbot: QtBot) -> None:
    extra = {"emails": [{"value": "ada@example.org", "type": "work"}], "title": "<b>Countess</b>"}
    (user_id,) = insert_rows(vault, [user_row("ada", "Ada Lovelace", datetime.now(UTC), **extra)])
    (group_id,) = insert_rows(vault, [group_row("Engineers")])
    add_member(vault, group_id, user_id)
    view = IdentitiesView(vault)
    qtbot.addWidget(view)
    browser = view.users
    qtbot.waitUntil(lambda: browser.model.rowCount() == 1)
    browser.table.selectRow(0)
    qtbot.waitUntil(lambda: "emails[0].value: ada@example.org" in browser.detail.toPlainText())
    text = browser.detail.toPlainText()
    assert "title: <b>Countess</b>" in text  # shown literally, never rendered
    assert f"groups[0]: Engineers ({group_id})" in text
    assert browser.detail_title.text() == "ada"
    view.apply_changes(ResourcesChanged("User", deleted=(user_id,)))
    assert browser.detail_title.text() == "This resource was deleted."


def test_detail_pane_names_look_alike_names_and_the_person_s_requests(vault: Vault, qtbot: QtBot) -> None:
    """Issue 11 §7: a Cyrillic "paypal" is its own identity and is shown as a look-alike; issue 13: the requests
    that concern a person are listed with their deadlines."""
    from app.dsr.register import DsrRegister

    look_alike = "\u0440\u0430\u0443\u0440\u0430l"  # Cyrillic р а у р а, then a Latin l
    now = datetime.now(UTC)
    rows = [user_row("ada", "Ada Lovelace", now), user_row(look_alike, "Not PayPal", now)]
    (plain_id, user_id) = insert_rows(vault, rows)
    request_id = DsrRegister(vault).open(["access"], "email", "dpo", datetime.now(UTC), subject_id=user_id)
    view = IdentitiesView(vault)
    qtbot.addWidget(view)
    browser = view.users
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2)
    row = next(r for r in range(2) if browser.model.row_id(r) == user_id)
    browser.table.selectRow(row)
    qtbot.waitUntil(lambda: request_id in browser.detail.toPlainText())
    title = browser.detail_title.text()
    assert "Look-alike name" in title and "\u201cpaypal\u201d" in title and "Cyrillic" in title
    assert f"{request_id}: access; received" in browser.detail.toPlainText()
    browser.table.selectRow(1 - row)
    qtbot.waitUntil(lambda: "Data subject requests: none" in browser.detail.toPlainText())
    assert browser.detail_title.text() == "ada" and plain_id != user_id


# -- tokens --------------------------------------------------------------------------------------------
def test_tokens_create_show_once_and_revoke(vault: Vault, qtbot: QtBot) -> None:
    answers: list[bool] = []
    page = TokensPage(TokenStore(vault), confirm=lambda _parent, _title, _text: answers.pop(0))
    qtbot.addWidget(page)
    page.show()
    assert not page.secret.isVisible()
    page.name.setText("Entra ID")
    page.create_token()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and page.secret.isVisible())
    secret = page.secret.text()
    assert secret.startswith("cst_") and page.secret.isReadOnly()
    page.copy_secret.click()
    assert QGuiApplication.clipboard().text() == secret
    assert [page.table.item(0, c).text() for c in (0, 1)] == ["Entra ID", "active"]
    assert secret not in " ".join(page.table.item(0, c).text() for c in range(page.table.columnCount()))

    page.name.setText("Entra ID")  # duplicate names are refused with the store's message
    page.create_token()
    qtbot.waitUntil(lambda: "already exists" in page.message.text())

    page.table.selectRow(0)
    answers.append(False)
    page.revoke_selected()
    assert TokenStore(vault).list()[0].status == "active"
    answers.append(True)
    page.revoke_selected()
    qtbot.waitUntil(lambda: page.table.item(0, 1).text() == "revoked")
    assert TokenStore(vault).list()[0].status == "revoked"


# -- main window with the real server ------------------------------------------------------------------
def test_user_posted_over_https_appears_in_the_table(
    running: tuple[MainWindow, ScimServer], data_dir: Path, qtbot: QtBot
) -> None:
    window, server = running
    panel = window.server_panel
    assert panel.url.text() == server.base_url and server.base_url.startswith("https://127.0.0.1:")
    # all 95 characters, on two lines (on one the label was cut at 640 px)
    assert "".join(panel.fingerprint.text().split()) == server.fingerprint and len(server.fingerprint) == 95
    model = window.identities.users.model
    qtbot.waitUntil(lambda: model.total == 0 and model.rowCount() == 0)

    window.tokens_page.name.setText("test-idp")  # a token made in the UI works at once on the server
    answer_passphrase_dialog(PASSPHRASE)  # a new token needs the passphrase again
    window.tokens_page.create_token()
    qtbot.waitUntil(lambda: window.tokens_page.secret.text().startswith("cst_"))
    secret = window.tokens_page.secret.text()
    verify = ssl.create_default_context(cafile=str(ensure_self_signed(data_dir).cert_path))
    with httpx.Client(base_url=server.base_url, verify=verify, timeout=30) as http:
        body = {"schemas": [USER_SCHEMA], "userName": "grace@example.org", "displayName": "Grace Hopper"}
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/scim+json"}
        response = http.post("/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.total == 1, timeout=5_000)
    assert model.data(model.index(0, 0)) == "grace@example.org"
    assert model.row_id(0) == response.json()["id"]
    assert not model.canFetchMore(QModelIndex())
    panel.refresh()
    assert panel.rate.text().startswith("1 per minute")

    panel.stop()
    qtbot.waitUntil(lambda: panel.state.text() == "stopped", timeout=15_000)
    assert not server.running and panel.url.text() == "—"


def test_a_long_search_note_wraps_inside_the_list(vault: Vault, qtbot: QtBot) -> None:
    """Before: an invalid filter's note was one line: it widened the list beyond a 640 px window, squeezed the
    details into a column and was cut at the edge."""
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    browser.resize(620, 400)
    browser.show()
    qtbot.keyClicks(browser.search, 'userName eq "an unfinished filter that is not valid')
    qtbot.keyClick(browser.search, Qt.Key.Key_Return)
    note = browser.search_note
    assert "not valid SCIM filter syntax" in note.text()
    qtbot.waitUntil(lambda: note.width() <= browser.width() and note.height() >= note.heightForWidth(note.width()))
    assert note.wordWrap() and browser.minimumSizeHint().width() <= 620
