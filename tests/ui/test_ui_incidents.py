"""The Incidents page and the alert badge: the register with its countdown, awareness recorded with a reason,
the notification draft, and an alert from the rules reaching the window."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.siem.alerts import AlertRaised
from app.store.vault import Vault
from app.ui.incidents.view import IncidentsPage


def test_register_countdown_awareness_and_draft(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    register = IncidentRegister(vault)
    register.open_candidate_from_alert(7, "auth_failures", "25 failures in 5 min")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.ask_text = lambda _parent, _title, _label: "phishing kit confirmed in the logs"
    page.choose_folder = lambda _parent: tmp_path / "drafts"
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.table.item(0, 1).text() == "candidate"
    assert page.table.item(0, 6).text().startswith("72-hour clock not started")
    assert "1 candidate(s) from alerts" in page.summary.text()

    page.table.selectRow(0)
    page.record_awareness()
    qtbot.waitUntil(lambda: page.table.item(0, 1).text() == "open", timeout=5000)
    assert "left (deadline" in page.table.item(0, 6).text() and page.table.item(0, 5).text() != "—"
    assert "Aware because: phishing kit confirmed" in page.detail.toPlainText()
    assert register.get(1).aware_by  # recorded with the operator

    page.export_draft()
    qtbot.waitUntil(lambda: "Draft written" in page.summary.text(), timeout=10_000)
    assert sorted(p.suffix for p in (tmp_path / "drafts").iterdir()) == [".md", ".pdf"]
    page.hide()
    assert not page.countdown.isActive()


def test_alert_badge_on_the_main_window(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    from app.core.events import EventBus
    from app.scim.server import ScimServer
    from app.scim.tls import ensure_self_signed
    from app.store.tokens import TokenStore
    from app.ui.main_window import MainWindow

    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    bus.publish(AlertRaised(41, "mass_deprovisioning", 500, "500 deletes within 10 min (threshold 50)"))
    index = window.pages.indexOf(window.incidents_page)
    qtbot.waitUntil(lambda: window.pages.tabText(index) == "Incidents (1 new)", timeout=5000)
    assert "500 deletes" in window.statusBar().currentMessage()
    window.pages.setCurrentIndex(index)
    assert window.pages.tabText(index) == "Incidents"
    window.shutdown()
