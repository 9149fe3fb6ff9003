"""Trail order and time order (decision 0034): request entries carry the time they were answered and are written
later, so an entry can be timed before entries written ahead of it. What reads the trail by time must still be
exact: the Audit page's time filter and chart, the timeline export, and ``audit verify``'s clock note.

The trails here are what the recorder writes: a change at T + 0.3 s, then the batch of requests answered at
T + 0.1 s. Before decision 0034 the time filter bisected on seq as if times never went back, and missed entries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.audit.lateness import LARGEST_RECORDED_DELAY, LATE_KIND, margin
from app.audit.query import EventFilter, count, histogram, page
from app.audit.trail import Event, append, iso_utc
from app.audit.verify import verify_trail
from app.store.vault import Vault

T = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)  # after every entry the vault already holds


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def change(conn: object, seconds: float) -> None:
    append(conn, Event("scim.resource.updated", "token:okta", at=at(seconds)))  # type: ignore[arg-type]


def requests(conn: object, seconds: float, n: int) -> None:
    for _ in range(n):
        append(conn, Event("scim.request", "token:okta", details={"status": 200}, at=at(seconds)))  # type: ignore[arg-type]


def brute_force(vault: Vault, since: datetime | None, until: datetime | None) -> list[int]:
    with vault.read_connection() as conn:
        rows = conn.exec_driver_sql("SELECT seq, at FROM audit_events ORDER BY seq DESC").all()
    low, high = iso_utc(since) if since else "", iso_utc(until) if until else "~"
    return [seq for seq, moment in rows if low <= moment < high]


def test_a_time_filter_finds_a_change_written_before_a_batch_of_earlier_requests(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        change(conn, 0.3)
        requests(conn, 0.1, 100)  # answered at T + 0.1 s, written after the change
        change(conn, 0.4)
    since = at(0.2)
    with vault.read_connection() as conn:
        found = [e.seq for e in page(conn, EventFilter(since=since), limit=500)]
        counted = count(conn, EventFilter(since=since))
        charted = sum(histogram(conn, EventFilter(), since, at(1), 4))
    assert found == brute_force(vault, since, None) and len(found) == 2  # both changes, none of the requests
    assert counted == 2 and charted == 2
    with vault.read_connection() as conn:
        before = [e.seq for e in page(conn, EventFilter(until=since), limit=500)]
    assert before == brute_force(vault, None, since)


def test_an_entry_written_later_than_the_bound_widens_the_search_by_what_the_trail_says(vault: Vault) -> None:
    """A batch written five minutes late (the writer held up) is announced by the recorder's ``audit.recorder.late``
    entry; the time filter looks back that far and still finds the change written before the batch."""
    with vault.write_transaction() as conn:
        change(conn, 250)
        requests(conn, 0, 100)
        append(conn, Event(LATE_KIND, "system:audit-recorder", details={"count": 100, "seconds": 300,
                                                                         "bound_seconds": 60}, at=at(300)))  # fmt: skip
        change(conn, 301)
    since = at(200)
    with vault.read_connection() as conn:
        found = [e.seq for e in page(conn, EventFilter(since=since), limit=500)]
        assert margin(conn) == timedelta(seconds=301)
    assert found == brute_force(vault, since, None) and len(found) == 3


def test_a_late_entry_record_that_is_not_json_does_not_break_the_search(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        append(conn, Event(LATE_KIND, "system:audit-recorder", details={"count": 1, "seconds": 90}, at=at(0)))
        conn.exec_driver_sql(f"UPDATE audit_events SET details = 'not json' WHERE kind = '{LATE_KIND}'")
    with vault.read_connection() as conn:
        assert margin(conn) == timedelta(seconds=60)
        assert count(conn, EventFilter(since=at(-1))) == 1


def test_requests_timed_before_the_changes_written_ahead_of_them_are_not_a_clock_going_back(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        change(conn, 0.3)
        requests(conn, 0.1, 2)
        change(conn, 0.4)
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    assert report.ok and not any("clock went back" in note for note in report.notes), report.notes
    with vault.write_transaction() as conn:
        change(conn, 0.2)  # a change timed before the change written ahead of it: the clock did go back
        requests(conn, 0.05, 1)  # and a request timed before the requests written ahead of it
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    assert report.ok
    assert any("clock went back 2 time(s)" in note for note in report.notes), report.notes


def test_the_margin_is_read_through_the_kind_index(vault: Vault) -> None:
    """Every time-filtered read asks for the margin: a search of the few late-entry rows, never a scan."""
    with vault.read_connection() as conn:
        sql = str(LARGEST_RECORDED_DELAY.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert margin(conn) == timedelta(seconds=60)
    assert "USING INDEX ix_audit_kind_seq (kind=?)" in plan and "SCAN" not in plan, plan
