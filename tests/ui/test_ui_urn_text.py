"""A schema URN in the identity detail wraps at its colons, never inside a word; a copy gives it back whole."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from ui_support import insert_rows, user_row

from app.policy.versions import default_policy_text
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.identities.view import IdentitiesView
from app.ui.urn_text import BREAK, breakable, unbroken

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def wrapped_lines(detail: object, needle: str) -> list[str]:
    """The lines the layout made of the first paragraph holding ``needle``, as drawn."""
    document = detail.document()  # type: ignore[attr-defined]
    block = document.begin()
    while block.isValid() and needle not in block.text():
        block = block.next()
    assert block.isValid(), needle
    layout, text = block.layout(), block.text()
    starts = [layout.lineAt(i).textStart() for i in range(layout.lineCount())] + [len(text)]
    return [text[start:end] for start, end in pairwise(starts)]


def test_an_extension_urn_wraps_at_its_colons_in_a_narrow_detail_pane(vault: Vault, qtbot: QtBot) -> None:
    apply_policy(vault, default_policy_text(), "test")
    extra = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], ENTERPRISE: {"department": "Sales"}}
    insert_rows(vault, [user_row("user1@example.test", None, datetime.now(UTC), **extra)])
    view = IdentitiesView(vault)
    qtbot.addWidget(view)
    view.resize(640, 480)  # the detail pane is then about 250 px: narrower than the URN
    view.show()
    browser = view.users
    qtbot.waitUntil(lambda: browser.model.rowCount() == 1)
    browser.table.selectRow(0)
    qtbot.waitUntil(lambda: "Targets:" in browser.detail.toPlainText())

    lines = wrapped_lines(browser.detail, "enterprise")
    assert len(lines) > 1  # it did have to wrap
    for line in lines[:-1]:  # every line ends at a colon's break (or a space), never inside "department"
        assert line.rstrip(BREAK + " ").endswith((":", ",")) or line.endswith(" "), lines
    assert f"{ENTERPRISE}.department: Sales" in unbroken(browser.detail.toPlainText())

    browser.detail.selectAll()
    browser.detail.copy()
    copied = QGuiApplication.clipboard().text()
    assert f"{ENTERPRISE}.department: Sales" in copied and BREAK not in copied


def test_only_urns_get_break_marks() -> None:
    text = f"emails[0].value: a:b@example.test\n{ENTERPRISE}.manager.value: 42"
    marked = breakable(text)
    assert marked.splitlines()[0] == "emails[0].value: a:b@example.test"
    assert marked.count(BREAK) == ENTERPRISE.count(":") and unbroken(marked) == text
