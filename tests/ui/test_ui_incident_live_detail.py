"""The selected incident's timeline says the clock as it stands: the table's Clock column counts down every second,
and the timeline's "Clock: … left" line below it stayed at what it said when the row was selected (and "Still to
record" too: past the deadline, the reasons for the delay join it)."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.ui.incidents.view import CLOCK, IncidentsPage
from tests.incidents.test_register import FRIDAY_9, FakeClock


def test_the_timeline_clock_follows_the_countdown(qtbot: QtBot, vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=71, minutes=50))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(incident, "dpo", "laptop confirmed stolen", FRIDAY_9)
    page = IncidentsPage(vault, PolicyInForce(vault), now=now)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    assert "Clock: 0 h 10 min left" in page.detail.toPlainText()

    now.now += timedelta(minutes=15)  # the deadline passes while the DPO looks at it
    qtbot.waitUntil(lambda: page.table.item(0, CLOCK).text() == "OVERDUE by 0 h 05 min", timeout=3000)
    qtbot.waitUntil(lambda: "Clock: OVERDUE by 0 h 05 min" in page.detail.toPlainText(), timeout=3000)
    assert "0 h 10 min left" not in page.detail.toPlainText()
