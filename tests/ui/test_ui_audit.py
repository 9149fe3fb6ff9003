"""The audit timeline page: pages load lazily newest first, filters re-query, the chart and verdict show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from app.audit.pseudonyms import pseudonym_for
from app.audit.query import EventFilter
from app.audit.trail import Event, append
from app.directory import repository as repo
from app.store.vault import Vault
from app.ui.audit.model import PAGE_SIZE, AuditTableModel
from app.ui.audit.view import AuditPage
from tests.conftest import USER_SCHEMA


def seed(vault: Vault, n: int) -> None:
    start = datetime.now(UTC)  # after the vault's own first event: a trail is appended in time order
    with vault.write_transaction() as conn:
        for i in range(n):
            kind = "scim.request" if i % 4 else "scim.auth.failed"
            outcome = "failure" if kind == "scim.auth.failed" else "success"
            append(
                conn,
                Event(
                    kind,
                    "token:okta" if i % 4 else "anonymous",
                    outcome,
                    details={"status": 200},
                    at=start + timedelta(seconds=i),
                ),
            )


def test_timeline_pages_filters_and_verdict(qtbot: QtBot, vault: Vault) -> None:
    seed(vault, 1200)
    page = AuditPage(vault, verifier=lambda conn: "Intact: checked by the test verifier")
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == PAGE_SIZE, timeout=5000)
    assert page.model.data(page.model.index(0, 2)) == "scim.request"
    newest = int(page.model.data(page.model.index(0, 0)))
    assert int(page.model.data(page.model.index(1, 0))) == newest - 1

    page.model.fetchMore()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 * PAGE_SIZE, timeout=5000)

    qtbot.waitUntil(lambda: page.kind.count() > 1, timeout=5000)
    page.kind.setCurrentText("scim.auth.failed")
    qtbot.waitUntil(lambda: page.model.rowCount() == 300, timeout=5000)
    assert {page.model.data(page.model.index(r, 4)) for r in range(300)} == {"failure"}
    qtbot.waitUntil(lambda: page.chart.data is not None and page.chart.data.total() == 300, timeout=5000)

    page.verify()
    qtbot.waitUntil(lambda: "Verifying" not in page.verdict.text(), timeout=5000)
    assert page.verdict.text() == "Intact: checked by the test verifier"


def test_real_verifier_reports_intact_then_broken(qtbot: QtBot, vault: Vault) -> None:
    from app.ui.audit.view import trail_verdict

    seed(vault, 50)
    page = AuditPage(vault, verifier=trail_verdict)
    qtbot.addWidget(page)
    page.verify()
    qtbot.waitUntil(lambda: "intact" in page.verdict.text(), timeout=10_000)
    with vault.write_transaction() as conn:  # tamper with one stored entry behind the app's back
        conn.exec_driver_sql("UPDATE audit_events SET actor = 'token:someone-else' WHERE seq = 10")
    page.verify()
    qtbot.waitUntil(lambda: "BROKEN at seq 10" in page.verdict.text(), timeout=10_000)


def test_the_chart_shows_events_by_type_over_the_filtered_range(qtbot: QtBot, vault: Vault) -> None:
    """Issue 14 §7: the activity chart is a pandas time series per event type, and follows the filters."""
    seed(vault, 40)
    with vault.write_transaction() as conn:
        for i in range(5):
            append(conn, Event("policy.applied", "operator:dpo", details={"version": i + 2},
                               at=datetime.now(UTC) + timedelta(minutes=1, seconds=i)))  # fmt: skip
    page = AuditPage(vault)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.chart.data is not None and page.chart.data.total("policy") == 5, timeout=5000)
    assert page.chart.data is not None
    assert page.chart.data.total("scim") == 40 and page.chart.data.slots == 48
    assert page.chart.caption.startswith("Events by type, ")
    assert "policy 5" in page.chart.accessibleDescription()
    qtbot.waitUntil(lambda: page.kind.count() > 1, timeout=5000)
    page.kind.setCurrentText("policy.")
    qtbot.waitUntil(lambda: page.chart.data is not None and list(page.chart.data.series) == ["policy"], timeout=5000)
    busiest = max(range(48), key=lambda i: page.chart.data.series["policy"][i])  # type: ignore[union-attr]
    assert page.chart.describe_slot(busiest).endswith(f"policy {page.chart.data.series['policy'][busiest]}")
    page.clear_for_lock()
    assert page.chart.data is None


def test_a_list_read_the_subject_filter_found_names_the_person_in_its_subject_cell(qtbot: QtBot, vault: Vault) -> None:
    """Filtered by a subject, a list read that returned the person showed an empty Subject cell, as if about no one
    (as `audit tail --subject` showed "-"): it now shows the pseudonym searched for, marked as read in a list."""
    person = "00000000-0000-4000-8000-00000000000c"
    with vault.write_transaction() as conn:
        repo.insert_resource(conn, "User", person, {"schemas": [USER_SCHEMA], "userName": "listed"}, datetime.now(UTC))
        append(conn, Event("scim.resource.created", "token:idp", subject=person))
        append(conn, Event("scim.request", "token:stolen", details={"results": 1}, read_subjects=(person,)))
        pseudonym = str(pseudonym_for(conn, person))
    model = AuditTableModel(vault)
    model.set_filter(EventFilter(subject=pseudonym))
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    cells = [(model.data(model.index(row, 2)), model.data(model.index(row, 5))) for row in range(2)]
    assert cells == [("scim.request", f"{pseudonym} (in list read)"), ("scim.resource.created", pseudonym)]
    model.set_filter(EventFilter())
    qtbot.waitUntil(lambda: model.rowCount() >= 3, timeout=5000)
    assert model.data(model.index(0, 5)) == ""  # unfiltered, a list read names no subject of its own


def test_the_verdict_writes_the_covered_range_in_the_workstation_zone(vault: Vault) -> None:
    """The Overview and Audit trail pages write times as "2026-12-03 11:21:21 UTC"; the covered range came out as
    the stored "2026-12-03T10:48:52.428413Z", a second clock on the same line."""
    import re

    from app.ui.audit.view import trail_verdict

    seed(vault, 3)
    with vault.write_transaction() as conn:
        verdict = trail_verdict(conn)
    covered = verdict.split("Covered: ", 1)[1]
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", covered), covered
    assert re.search(r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\)", covered), covered
