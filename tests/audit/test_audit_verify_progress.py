"""verify_trail with progress and cancellation: reports go up to the total, a cancel stops it, verdicts unchanged."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text

import app.audit.verify as verify_module
from app.audit.verify import VerificationCancelled, VerifyReport, verify_trail
from app.core.errors import CustosError
from app.store.vault import Vault
from tests.audit.conftest import delete, flip_byte, rolled_back, size, swap


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report every 7 entries and fetch 50 at a time, so the 120-entry trail gives many reports and batches."""
    monkeypatch.setattr(verify_module, "STEP", 7)
    monkeypatch.setattr(verify_module, "BATCH", 50)


def watched(conn: Connection) -> tuple[VerifyReport, list[tuple[int, int]]]:
    reports: list[tuple[int, int]] = []
    report = verify_trail(conn, progress=lambda done, total: reports.append((done, total)), cancelled=lambda: False)
    return report, reports


def same_verdict(a: VerifyReport, b: VerifyReport) -> None:
    assert (a.ok, a.entries, a.checkpoints, a.root, a.failing_entries) == (
        b.ok,
        b.entries,
        b.checkpoints,
        b.root,
        b.failing_entries,
    )
    assert a.breaches == b.breaches and a.notes == b.notes


def assert_monotonic_to_the_end(reports: list[tuple[int, int]], entries: int) -> None:
    dones = [done for done, _total in reports]
    assert dones == sorted(dones), reports
    assert all(done <= total for done, total in reports), reports
    assert reports[0][0] == 0 and reports[-1] == (entries, entries), reports


@pytest.mark.usefixtures("small_steps")
def test_progress_goes_up_to_the_total_and_the_verdict_is_unchanged(trail_vault: Vault) -> None:
    with trail_vault.read_connection() as conn:
        plain = verify_trail(conn)
        report, reports = watched(conn)
    same_verdict(report, plain)
    assert report.ok
    assert_monotonic_to_the_end(reports, report.entries)
    assert {total for _done, total in reports} == {report.entries}  # an intact trail: the estimate is exact
    steps = [b[0] - a[0] for a, b in itertools.pairwise(reports)]
    assert steps and all(0 < step <= 7 for step in steps), steps  # at least every STEP entries, across batches


def test_default_step_reports_at_start_and_end(trail_vault: Vault) -> None:
    with trail_vault.read_connection() as conn:
        report, reports = watched(conn)
    assert reports == [(0, report.entries), (report.entries, report.entries)]


Tamper = Callable[[Connection], None]


def move(old: int, new: int) -> Tamper:
    return lambda conn: conn.execute(text("UPDATE audit_events SET seq = :n WHERE seq = :o"), {"n": new, "o": old})


TAMPERING: dict[str, Tamper] = {
    "flipped byte": lambda conn: flip_byte(conn, random.Random(3), 40, "details"),
    "removed, renumbered": lambda conn: delete(conn, 33, renumber=True),
    "removed, gap": lambda conn: delete(conn, 70),
    "swapped": lambda conn: swap(conn, 12, 90),
    "seq moved far beyond the end": move(60, 5000),  # the total estimated from max(seq) is too high
    "seq moved below zero": move(60, -4),
}


@pytest.mark.usefixtures("small_steps")
@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_a_tampered_trail_gets_the_same_verdict_and_progress_still_ends_at_the_total(
    trail_vault: Vault, tampering: str
) -> None:
    with rolled_back(trail_vault) as conn:
        TAMPERING[tampering](conn)
        plain = verify_trail(conn)
        report, reports = watched(conn)
    assert not plain.ok
    same_verdict(report, plain)
    assert_monotonic_to_the_end(reports, report.entries)


@pytest.mark.usefixtures("small_steps")
def test_cancelling_part_way_raises_and_stops_the_scan(trail_vault: Vault) -> None:
    reports: list[tuple[int, int]] = []

    def cancelled() -> bool:
        return len(reports) >= 4  # the start and three steps of 7 entries

    with trail_vault.read_connection() as conn:
        total = size(conn)
        with pytest.raises(VerificationCancelled) as stopped:
            verify_trail(conn, progress=lambda done, total: reports.append((done, total)), cancelled=cancelled)
        assert verify_trail(conn).ok  # the connection is still usable: the cursor was closed
    assert reports == [(0, total), (7, total), (14, total), (21, total)]
    assert isinstance(stopped.value, CustosError)
    assert stopped.value.user_message.startswith("Verification cancelled.")


def test_cancelled_before_the_first_entry(trail_vault: Vault) -> None:
    with trail_vault.read_connection() as conn, pytest.raises(VerificationCancelled):
        verify_trail(conn, cancelled=lambda: True)


def test_cancelled_after_the_last_entry_still_stops(trail_vault: Vault) -> None:
    """A cancel that arrives during the last batch is honoured before the tree is built."""
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # default STEP: asked once before the only slice, then after the scan

    with trail_vault.read_connection() as conn, pytest.raises(VerificationCancelled):
        verify_trail(conn, cancelled=cancelled)
    assert len(asked) == 2


def test_an_empty_trail_reports_zero_of_zero(vault: Vault) -> None:
    with rolled_back(vault) as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
        conn.execute(text("DELETE FROM audit_events"))
        report, reports = watched(conn)
    assert report.entries == 0 and reports == [(0, 0)]
