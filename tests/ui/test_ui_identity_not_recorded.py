"""The identity detail lists the policy's attributes a person has no value for as "not recorded", as the subject
export does (absent_data), read through app.services.identities."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.qtbot import QtBot
from ui_support import insert_rows, user_row

from app.policy.versions import default_policy_text
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.ui.identities.view import IdentitiesView


def test_the_detail_lists_held_attributes_with_no_value_as_not_recorded(vault: Vault, qtbot: QtBot) -> None:
    apply_policy(vault, default_policy_text(), "test")
    extra = {"emails": [{"value": "user1@example.test", "type": "work"}]}
    insert_rows(vault, [user_row("user1@example.test", None, datetime.now(UTC), **extra)])
    view = IdentitiesView(vault)
    qtbot.addWidget(view)
    browser = view.users
    qtbot.waitUntil(lambda: browser.model.rowCount() == 1)
    browser.table.selectRow(0)
    qtbot.waitUntil(lambda: "Targets:" in browser.detail.toPlainText())
    lines = browser.detail.toPlainText().splitlines()
    assert "Not recorded (the policy holds these, but no value was received):" in lines
    assert "  displayName: not recorded" in lines  # the default policy holds it; none was sent
    assert "  userName: not recorded" not in lines and "  emails.value: not recorded" not in lines
