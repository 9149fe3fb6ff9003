"""The Targets page: health rows from the vault, and the selected target's mapping beside the catalogue."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.policy.apply import apply_policy
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets import outbox
from app.targets.config import TargetConfig, add_target
from app.ui.targets.view import TargetsPage
from tests.targets.support import policy_with_recipients


def test_targets_page_shows_health_and_mapping(qtbot: QtBot, vault: Vault) -> None:
    apply_policy(vault, policy_with_recipients(), "dpo")
    with vault.write_transaction() as conn:
        for name in ("app1", "app2"):
            add_target(conn, TargetConfig(0, name, f"https://{name}.example.test/scim/v2", name, "bearer", "s3cret"))
        outbox.enqueue(conn, "User", "01a2-not-a-real-user", "upsert")
    page = TargetsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    row = [page.model.item(0, column).text() for column in range(page.model.columnCount())]
    assert row[:6] == ["app1", "catching up", "app1", "0", "1", "0"]
    assert "2 target(s); 2 change(s) queued" in page.summary.text()
    assert "s3cret" not in " ".join(page.model.item(r, c).text() for r in range(2) for c in range(9))

    page.table.selectRow(1)
    qtbot.waitUntil(lambda: page.mapping_model.rowCount() > 0, timeout=2000)
    sent = {
        page.mapping_model.item(r, 0).text(): page.mapping_model.item(r, 2).text()
        for r in range(page.mapping_model.rowCount())
    }
    assert sent["User title"] == "yes" and sent["User emails.value"] == "no"
    assert sent["User name.givenName"] == "yes"
    page.hide()
    assert not page.timer.isActive()
