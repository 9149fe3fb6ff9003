"""Verifying the trail from the app: a determinate progress bar, a Cancel that stops the worker, then the verdict."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Connection

import app.audit.verify as verify_module
from app.audit.checkpoints import checkpoint_now
from app.audit.trail import canonical, content_bytes, iso_utc
from app.audit.verify import Cancelled, Progress
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.store.vault import Vault
from app.ui.audit.verification import CANCEL_TEXT, CANCELLED_TEXT, VerifyRun, verification_job, watches_progress
from app.ui.audit.view import AuditPage, trail_verdict
from app.ui.overview import OverviewPage

BIG = 20_000  # entries: a few hundred milliseconds of verification, so a Cancel lands part-way
IDLE_TEXT = "Verif&y integrity"


def grow_trail(vault: Vault, entries: int) -> int:
    """Append ``entries`` valid entries straight into the table (hashes computed here), then sign; the new size."""
    start = datetime(2030, 1, 1, tzinfo=UTC)  # after the vault's own entries: the clock never goes back
    with vault.write_transaction() as conn:
        seq, chain = conn.exec_driver_sql("SELECT seq, chain_hash FROM audit_events ORDER BY seq DESC LIMIT 1").one()
        rows = []
        for i in range(entries):
            seq += 1
            at = iso_utc(start + timedelta(milliseconds=i))
            details = canonical({"status": 200, "n": i}).decode()
            leaf = hashlib.sha256(b"\x00" + content_bytes(seq, at, "scim.request", "token:t", "success", None, details))
            chain = hashlib.sha256(bytes.fromhex(chain) + leaf.digest()).hexdigest()
            rows.append((seq, at, "scim.request", "token:t", "success", None, details, leaf.hexdigest(), chain))
        conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
            "INSERT INTO audit_events (seq, at, kind, actor, outcome, subject, details, leaf_hash, chain_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        checkpoint_now(conn)  # may append the signing key's announcement first
        return int(conn.exec_driver_sql("SELECT max(seq) FROM audit_events").scalar_one())


@pytest.fixture
def big_trail(vault: Vault) -> int:
    return grow_trail(vault, BIG)


def slowed(pause: float) -> Callable[..., str]:
    """The real verifier, pausing at each progress report so the GUI's 100 ms poll sees the run part-way."""

    def verifier(conn: Connection, *, progress: Progress | None = None, cancelled: Cancelled | None = None) -> str:
        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            time.sleep(pause)

        return trail_verdict(conn, progress=report, cancelled=cancelled)

    return verifier


def idle(page: AuditPage) -> bool:
    return page.verification is not None and not page.verification.running


def test_cancel_right_after_start_stops_and_restores_the_button(qtbot: QtBot, vault: Vault, big_trail: int) -> None:
    page = AuditPage(vault, verifier=trail_verdict)
    qtbot.addWidget(page)
    page.show()
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    assert page.verify_button.text() == CANCEL_TEXT and page.verify_progress.isVisible()
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)  # the same button, now "Cancel"
    assert not page.verify_button.isEnabled()  # until the worker has stopped
    qtbot.waitUntil(lambda: idle(page), timeout=5000)
    assert page.verdict.text() == CANCELLED_TEXT
    assert page.verify_button.text() == IDLE_TEXT and page.verify_button.isEnabled()
    assert not page.verify_progress.isVisible()


def test_progress_is_shown_then_cancel_part_way(
    qtbot: QtBot, vault: Vault, big_trail: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "STEP", 1000)  # 20 reports; at 50 ms each the run would take a second
    page = AuditPage(vault, verifier=slowed(0.05))
    qtbot.addWidget(page)
    page.show()
    page.verify()
    qtbot.waitUntil(lambda: page.verify_progress.value() >= 1000, timeout=5000)
    assert page.verify_progress.maximum() == big_trail  # determinate: entries out of the whole trail
    assert f"of {big_trail:,} entries checked" in page.verdict.text()
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(page), timeout=5000)
    assert page.verdict.text() == CANCELLED_TEXT
    assert page.verify_button.text() == IDLE_TEXT and page.verify_button.isEnabled()

    page.verify()  # a fresh run after a cancel goes to its verdict
    qtbot.waitUntil(lambda: idle(page), timeout=5000)
    assert page.verdict.text().startswith(f"Audit trail intact: {big_trail} entries")


def test_a_completed_verification_shows_the_verdict(
    qtbot: QtBot, vault: Vault, big_trail: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "STEP", 2000)
    seen: list[tuple[int, int]] = []
    page = AuditPage(vault, verifier=slowed(0.01))
    qtbot.addWidget(page)
    page.show()
    page.verify()
    qtbot.waitUntil(lambda: page.verify_progress.maximum() > 0, timeout=5000)
    seen.append((page.verify_progress.value(), page.verify_progress.maximum()))
    qtbot.waitUntil(lambda: idle(page), timeout=5000)
    assert seen[0][1] == big_trail
    assert page.verdict.text().startswith(f"Audit trail intact: {big_trail} entries, ")
    assert "(checked " in page.verdict.text()
    # The moment names its zone (a bare local time beside the trail's UTC ones), and the range checked is said.
    checked = re.search(r"\(checked (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+)\)", page.verdict.text())
    assert checked and checked[2] == datetime.now().astimezone().strftime("%Z")
    assert f"Covered: entries 1–{big_trail} (" in page.verdict.text()
    assert not page.verify_progress.isVisible() and page.verify_button.text() == IDLE_TEXT


def test_a_broken_trail_still_gets_its_verdict(qtbot: QtBot, vault: Vault) -> None:
    grow_trail(vault, 500)
    with vault.write_transaction() as conn:
        conn.exec_driver_sql("UPDATE audit_events SET actor = 'token:other' WHERE seq = 300")
    page = AuditPage(vault, verifier=trail_verdict)
    qtbot.addWidget(page)
    page.verify()
    qtbot.waitUntil(lambda: idle(page), timeout=5000)
    assert "BROKEN at seq 300" in page.verdict.text()


def test_locking_cancels_a_running_verification(
    qtbot: QtBot, vault: Vault, big_trail: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "STEP", 1000)
    page = AuditPage(vault, verifier=slowed(0.05))
    qtbot.addWidget(page)
    page.verify()
    qtbot.waitUntil(lambda: page.verify_progress.value() > 0, timeout=5000)
    page.clear_for_lock()
    qtbot.waitUntil(lambda: idle(page), timeout=5000)
    assert page.verdict.text() == CANCELLED_TEXT


def test_overview_verification_shows_progress_and_cancels(
    qtbot: QtBot, vault: Vault, data_dir: Path, big_trail: int
) -> None:
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=EventBus())
    page = OverviewPage(vault, server)
    qtbot.addWidget(page)
    page.verify()
    assert page.verify_button.text() == CANCEL_TEXT and not page.verify_progress.isHidden()
    page.cancel_verification()
    qtbot.waitUntil(lambda: not page.verification.running, timeout=5000)
    assert page.fields["audit"].text() == CANCELLED_TEXT
    assert page.verify_button.text() == "Verify the audit trail &now" and page.verify_progress.isHidden()
    page.verify()
    qtbot.waitUntil(lambda: not page.verification.running, timeout=5000)
    assert page.fields["audit"].text().startswith(f"Audit trail intact: {big_trail} entries")


def test_a_verifier_taking_only_the_connection_still_works() -> None:
    def plain(conn: Connection) -> str:
        return "plain"

    assert not watches_progress(plain)
    assert watches_progress(trail_verdict)
    assert watches_progress(slowed(0))


def test_the_job_does_not_start_when_cancelled_before_it_runs(vault: Vault) -> None:
    run = VerifyRun()
    run.stop.set()
    with pytest.raises(verify_module.VerificationCancelled):
        verification_job(vault, trail_verdict, run)()
    assert run.latest is None


def test_the_verdict_of_a_pruned_trail_says_what_was_pruned_and_from_where(vault: Vault) -> None:
    """The Audit page and the Overview show trail_verdict: after a prune (decision 0055) it must say which entries
    went, when, and that the trail verifies from the signed checkpoint there, never 'intact' from entry 1."""
    from sqlalchemy import text

    from app.audit import prune
    from app.audit.trail import Event, append

    later = datetime.now(UTC) + timedelta(days=3)
    with vault.write_transaction() as conn:
        checkpoint_now(conn)
        append(conn, Event("token.created", "operator:dpo", details={"name": "x"}, at=later))
        chosen = prune.plan(conn, "P1D", later - timedelta(days=1))
        prune.prune(conn, chosen, later)
    n = chosen.last_seq
    with vault.read_connection() as conn:
        verdict = trail_verdict(conn)
    assert verdict.startswith("Audit trail intact: ")
    assert f"entries 1–{n} pruned under the retention period P1D on {later.date().isoformat()}" in verdict
    assert f"verified from the signed checkpoint at {n}" in verdict
    assert f"\nCovered: entries {n + 1}–" in verdict
    with vault.write_transaction() as conn:  # the same cut made by hand, without its record: tampering
        conn.execute(text("DELETE FROM audit_events WHERE kind = 'audit.pruned'"))
        tampered = trail_verdict(conn)
        conn.rollback()
    assert tampered.startswith("Audit trail BROKEN") and "pruned" not in tampered.split("\n")[0]
