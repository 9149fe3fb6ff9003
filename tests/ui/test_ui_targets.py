"""The Targets page: health rows from the vault, and the selected target's mapping beside the catalogue."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from app.feed import outbox
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.policy_change import apply_policy
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
    assert "2 targets; 2 changes queued" in page.summary.text()
    assert "s3cret" not in " ".join(page.model.item(r, c).text() for r in range(2) for c in range(10))

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


def test_identity_detail_lists_the_targets_holding_it(qtbot: QtBot, vault: Vault) -> None:
    from ui_support import insert_rows, many_users

    from app.feed import links
    from app.ui.identities.view import ResourceBrowser

    apply_policy(vault, policy_with_recipients(), "dpo")
    with vault.write_transaction() as conn:  # before the user: a target added later would queue its initial sync
        first = add_target(conn, TargetConfig(0, "app1", "https://app1.example.test/scim/v2", "app1", "bearer", "s"))
        add_target(conn, TargetConfig(0, "app2", "https://app2.example.test/scim/v2", "app2", "bearer", "s"))
    (user_id,) = insert_rows(vault, many_users(1))
    with vault.write_transaction() as conn:
        links.save(conn, first.id, "User", user_id, "remote-1", 1)
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    browser.show_detail(user_id)
    qtbot.waitUntil(lambda: "Targets:" in browser.detail.toPlainText(), timeout=5000)
    text = browser.detail.toPlainText()
    # Held and current by Custos's links, but never checked at the target: not said to be in sync (decision 0036).
    assert "  app1: not verified (their id remote-1)" in text and "  app2: not held" in text


def test_targets_page_shows_initial_sync_progress(qtbot: QtBot, vault: Vault) -> None:
    """A target added after users exist: catching up with its progress, never "in sync, 0 held"."""
    from tests.erasure.support import person, service_for

    apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    service = service_for(vault)
    for number in range(3):
        service.create("User", person(f"progress-{number}@example.test"))
    service.close()
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", "https://app1.example.test/scim/v2", "app1", "bearer", "s3cret"))
    page = TargetsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    row = [page.model.item(0, column).text() for column in range(page.model.columnCount())]
    assert row[1] == "catching up" and row[4] == "3" and row[6] == "0 of 3 in-scope users held"
    assert "1 syncing" in page.summary.text()
    # Never checked at the target, so not "0 not verified" beside a Verified column saying "never".
    assert row[8] == "never" and "1 not verified since the last change" in page.summary.text()
    page.hide()


def test_a_refresh_asked_for_during_a_read_is_made_after_it(
    qtbot: QtBot, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh asked for while a read was under way (after adding a target, say) was dropped: that read had begun
    before the change, and the page showed the targets without the new one until its timer read them again."""
    from app.ui.targets import view

    apply_policy(vault, policy_with_recipients(), "dpo")
    held, release = threading.Event(), threading.Event()
    load = view.load

    def first_read_held(*args: Any) -> Any:
        result = load(*args)
        if not held.is_set():
            held.set()
            release.wait(10)
        return result

    monkeypatch.setattr(view, "load", first_read_held)
    page = TargetsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)  # not shown: its timer does not run, only the refreshes asked for read
    page.refresh()
    try:
        assert held.wait(10)
        with vault.write_transaction() as conn:
            add_target(conn, TargetConfig(0, "app1", "https://app1.example.test/scim/v2", "app1", "bearer", "s3cret"))
        page.refresh()  # as after the add
    finally:
        release.set()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_at_1280_by_800_a_long_last_error_leaves_every_column_in_view(qtbot: QtBot, vault: Vault) -> None:
    """Before (walked in a real window at 1280×800): every column was as wide as its text, so the connection error
    ("GET failed: cannot connect to the target (is it running, and is the address right?)") pushed the URL past the
    right edge behind a horizontal scroll bar. Now the error takes the room left and is cut with its whole text in
    the cell's tooltip: every column is in view, the URL whole."""
    from dataclasses import replace

    apply_policy(vault, policy_with_recipients(), "dpo")
    with vault.write_transaction() as conn:
        for name in ("app1", "app2"):
            add_target(conn, TargetConfig(0, name, f"https://{name}.example.test/scim/v2", name, "bearer", "s3cret"))
    page = TargetsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.resize(1260, 560)  # the page's room in a 1280×800 window
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    assert page.snapshot is not None
    error = "GET failed: cannot connect to the target (is it running, and is the address right?) " * 2
    page.timer.stop()
    page._loaded(replace(page.snapshot, targets=[replace(t, last_error=error) for t in page.snapshot.targets]))
    qtbot.wait(50)

    table, last = page.table, page.model.columnCount() - 1
    assert table.horizontalScrollBar().maximum() == 0
    url_right = table.columnViewportPosition(last) + table.columnWidth(last)
    assert url_right <= table.viewport().width()
    assert table.columnWidth(last) >= table.sizeHintForColumn(last)  # the URL whole
    assert page.model.item(0, last - 1).toolTip() == error
