"""The Overview page: counts, targets, alerts, incidents with their clock, the policy, and the audit verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFormLayout, QLabel
from pytestqt.qtbot import QtBot
from ui_support import insert_rows, many_users

from app.audit.trail import Event, append
from app.core.events import EventBus
from app.incidents.register import IncidentRegister
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.store.vault import Vault
from app.ui.overview import OverviewPage


def test_overview_shows_the_state_of_everything(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    insert_rows(vault, many_users(12))
    register = IncidentRegister(vault)
    incident = register.open_incident("Misdirected export", "dpo")
    register.set_aware(incident, "dpo", "recipient confirmed")
    register.open_incident("Laptop left on a train", "dpo")  # opened by hand: not a candidate from alerts
    with vault.write_transaction() as conn:
        append(conn, Event("alert.raised", "system:alerts", "failure", details={"rule": "auth_failures"}))
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus())
    page = OverviewPage(vault, server)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.fields["identities"].text() == "12 users, 0 groups", timeout=5000)
    assert page.fields["server"].text() == "stopped"
    assert page.fields["alerts"].text() == "1"
    assert (
        "#1 Misdirected export: open;" in page.fields["incidents"].text()
        and "left" in page.fields["incidents"].text()
    )
    assert "#2 Laptop left on a train: awaiting awareness;" in page.fields["incidents"].text()
    assert page.fields["policy"].text().startswith("v1 (")
    page.verify()
    qtbot.waitUntil(lambda: "intact" in page.fields["audit"].text(), timeout=10_000)
    page.hide()
    assert not page.timer.isActive()


def test_overview_shows_erased_people_sent_again(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    import pytest

    from app.erasure.requests import request_erasure
    from app.erasure.tombstones import ErasedSubjectReturned
    from tests.erasure.support import person, service_for

    service = service_for(vault)
    rid = str(service.create("User", person("came.back@example.test")).body["id"])  # type: ignore[index]
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo")
    with pytest.raises(ErasedSubjectReturned):
        service.create("User", person("Came.Back@example.test"))
    service.close()
    page = OverviewPage(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus()))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: request_id in page.fields["returned"].text(), timeout=5000)
    text = page.fields["returned"].text()
    assert "1 re-creation(s) refused" in text and "custos erase release" in text
    assert "came.back" not in text.lower()
    page.hide()


def test_overview_shows_open_requests_and_the_nearest_deadline(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    """Issue 13 §3: the Overview says how many requests await an answer and when the nearest one is due."""
    from datetime import UTC, datetime, timedelta

    from app.dsr.register import DsrRegister

    register = DsrRegister(vault)
    page = OverviewPage(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus()))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.fields["requests"].text() == "No data subject request awaiting an answer.")
    page.hide()
    first = register.open(["access"], "email", "dpo", datetime.now(UTC) - timedelta(days=40))
    register.open(["erasure"], "form", "dpo", datetime.now(UTC))
    due = register.list(open_only=True)[0].deadline.isoformat()  # nearest first
    page.show()
    qtbot.waitUntil(lambda: page.fields["requests"].text().startswith("2 open requests; 1 overdue"), timeout=5000)
    assert f"nearest deadline {due}" in page.fields["requests"].text() and first
    page.hide()


def test_the_dashboard_tiles_and_charts_and_a_tile_opens_its_page(
    running: tuple[object, ScimServer], qtbot: QtBot
) -> None:
    """Issue 14 §7: the Overview is a dashboard; Enter on a tile (or a click) opens the page of its figure."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from app.ui.main_window import MainWindow

    window, _server = running
    assert isinstance(window, MainWindow)
    insert_rows(window.vault, many_users(7))
    page = window.overview_page
    page.refresh_dashboard()
    tiles = page.dashboard.tiles
    qtbot.waitUntil(lambda: tiles["users"].value.text() == "7", timeout=5000)
    # The tiles refresh less often than the pages: they say when they were read (the overview's clock, local).
    assert re.fullmatch(r"Figures as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", page.dashboard.as_of.text())
    assert tiles["groups"].value.text() == "0" and tiles["refusals"].title.text() == "Refused, last 24 h"
    assert tiles["users"].accessibleName() == "Users: 7"
    assert tiles["requests"].accessibleDescription() == "none awaiting an answer (nothing to do)"
    chart = page.dashboard.requests_chart
    assert chart.data is not None and chart.data.slots == 168 and list(chart.data.series) == ["served", "refused"]
    assert page.dashboard.erasures_chart.data is not None and page.dashboard.erasures_chart.data.slots == 30
    tiles["requests"].setFocus()
    QTest.keyClick(tiles["requests"], Qt.Key.Key_Return)
    assert window.pages.currentWidget() is window.requests_page
    window.pages.setCurrentWidget(page)
    QTest.mouseClick(tiles["incidents"], Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.incidents_page


def test_the_audit_line_follows_new_entries_and_checks_again(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    """The verdict used to stay as the first look left it while entries kept coming: now the line under it says how
    many were added since the check, and the trail is checked again (every few minutes) while the page is shown."""
    page = OverviewPage(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus()))
    qtbot.addWidget(page)
    page.show()  # the first look verifies
    qtbot.waitUntil(lambda: "none added since this check" in page.audit_news.text(), timeout=10_000)
    first_verdict = page.fields["audit"].text()
    with vault.write_transaction() as conn:
        for _ in range(3):
            append(conn, Event("policy.viewed", "operator:dpo"))
    page.refresh()
    qtbot.waitUntil(lambda: page.audit_news.text().startswith("3 entries added since this check"), timeout=5000)
    assert page.fields["audit"].text() == first_verdict  # not re-checked yet: a check every few minutes at most
    page.reverify_seconds = 0
    page.refresh()
    qtbot.waitUntil(lambda: "none added since this check" in page.audit_news.text(), timeout=10_000)
    assert page.fields["audit"].text() != first_verdict and "intact" in page.fields["audit"].text()
    page.hide()
    assert not page.timer.isActive()


def test_the_dashboard_follows_the_trail(
    qtbot: QtBot, vault: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiles and charts are read again when the trail has grown, not only when the page is shown."""
    from datetime import UTC, datetime

    monkeypatch.setattr("app.ui.overview.DASHBOARD_BUSY_SECONDS", 0.0)
    page = OverviewPage(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus()))
    qtbot.addWidget(page)
    page.show()
    chart = page.dashboard.requests_chart
    qtbot.waitUntil(lambda: chart.data is not None, timeout=5000)
    assert chart.data is not None and chart.data.total() == 0
    with vault.write_transaction() as conn:
        for status in (200, 200, 404):
            append(conn, Event("scim.request", "token:entra", "success" if status < 400 else "failure",
                               details={"status": status}, at=datetime.now(UTC)))  # fmt: skip
    page.refresh()
    qtbot.waitUntil(lambda: chart.data is not None and chart.data.total() == 3, timeout=5000)
    assert chart.data.total("refused") == 1
    qtbot.waitUntil(lambda: page.dashboard.tiles["refusals"].value.text() == "1", timeout=5000)
    page.hide()


def test_todays_alerts_say_whose_day(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    """The alerts are counted from midnight UTC; "Alerts today" left the day's zone to be guessed."""
    page = OverviewPage(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus()))
    qtbot.addWidget(page)
    label = page.findChild(QFormLayout).labelForField(page.fields["alerts"])
    assert isinstance(label, QLabel) and label.text() == "Alerts today (UTC)"


def test_one_user_and_one_group_are_counted_in_the_singular(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    """The identities line read "1 users, 1 groups"."""
    from ui_support import group_row

    insert_rows(vault, many_users(1))
    insert_rows(vault, [group_row("Sales")])
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus())
    page = OverviewPage(vault, server)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.fields["identities"].text() == "1 user, 1 group", timeout=5000)
