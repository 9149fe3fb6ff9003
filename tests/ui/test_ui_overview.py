"""The Overview page: counts, targets, alerts, incidents with their clock, the policy, and the audit verdict."""

from __future__ import annotations

from pathlib import Path

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
