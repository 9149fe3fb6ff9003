"""The trail's time series for the Overview's and the Audit page's charts (app/audit/timeseries.py), on a real
vault: regular axes with zeros, served vs refused without double counting, tallies weighed, families folded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.audit.query import EventFilter
from app.audit.timeseries import erasures_per_day, events_by_type, refusals_since, requests_per_hour
from app.audit.trail import Event, append
from app.store.vault import Vault

# After the vault's own first entries (made at the real time): the trail is appended in time order.
BASE = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def write(vault: Vault, *events: tuple[timedelta, str, str, dict[str, object]]) -> None:
    with vault.write_transaction() as conn:
        for offset, kind, outcome, details in events:
            append(conn, Event(kind, "token:entra", outcome, details=details, at=BASE + offset))


def test_requests_per_hour_over_seven_days(vault: Vault) -> None:
    write(
        vault,
        (timedelta(minutes=5), "scim.request", "success", {"status": 200}),
        (timedelta(minutes=6), "scim.request", "success", {"status": 201}),
        (timedelta(minutes=7), "scim.request", "failure", {"status": 400}),
        (timedelta(minutes=8), "scim.attributes.rejected", "failure", {}),  # the same refusal: not counted again
        (timedelta(hours=3, minutes=1), "scim.auth.failed", "failure", {"count": 12}),  # one tally of 12
        (timedelta(hours=3, minutes=2), "policy.applied", "success", {}),  # not a request
    )
    now = BASE + timedelta(hours=3, minutes=30)
    with vault.read_connection() as conn:
        series = requests_per_hour(conn, now)
        refused_day = refusals_since(conn, now - timedelta(hours=24))
        refused_since_three = refusals_since(conn, BASE + timedelta(hours=1))
    assert series.slots == 168 and series.step == timedelta(hours=1)
    assert series.start == BASE + timedelta(hours=3) - timedelta(hours=167) and series.end == BASE + timedelta(hours=4)
    assert series.series["served"][-4:] == [2, 0, 0, 0]
    assert series.series["refused"][-4:] == [1, 0, 0, 12]
    assert series.total("served") == 2 and series.total("refused") == 13
    assert (refused_day, refused_since_three) == (13, 12)


def test_an_empty_trail_gives_zeros_on_the_whole_axis(vault: Vault) -> None:
    with vault.read_connection() as conn:
        series = requests_per_hour(conn, BASE + timedelta(days=30))
        erasures = erasures_per_day(conn, BASE + timedelta(days=30))
    assert series.series == {"served": [0] * 168, "refused": [0] * 168}
    assert erasures.series == {"requested": [0] * 30, "closed": [0] * 30}


def test_erasures_per_day(vault: Vault) -> None:
    write(
        vault,
        (timedelta(hours=1), "erasure.requested", "success", {}),
        (timedelta(hours=2), "erasure.requested", "success", {}),
        (timedelta(days=1, hours=1), "erasure.closed", "success", {}),
    )
    now = BASE + timedelta(days=2)
    with vault.read_connection() as conn:
        erasures = erasures_per_day(conn, now, days=5)
    day = (BASE + timedelta(hours=1)).date()
    index = (day - erasures.start.date()).days
    assert erasures.series["requested"][index] == 2 and erasures.series["closed"][index + 1] == 1
    assert erasures.total() == 3 and erasures.slots == 5


def test_events_by_type_folds_the_rare_families_and_follows_the_filter(vault: Vault) -> None:
    kinds = ["scim.request"] * 6 + ["policy.applied"] * 5 + ["erasure.requested"] * 4 + ["token.created"] * 3
    kinds += ["incident.opened"] * 2 + ["dsr.opened", "vault.unlocked", "target.added"]
    write(vault, *[(timedelta(minutes=i), kind, "success", {}) for i, kind in enumerate(kinds)])
    start, end = BASE, BASE + timedelta(hours=1)
    with vault.read_connection() as conn:
        series = events_by_type(conn, EventFilter(), start, end, 6)
        only_scim = events_by_type(conn, EventFilter(kind_prefix="scim."), start, end, 6)
    assert list(series.series) == ["scim", "policy", "erasure", "token", "incident", "other"]
    assert series.total("other") == 3 and series.total() == len(kinds)
    assert series.series["scim"] == [6, 0, 0, 0, 0, 0] and series.series["other"] == [0, 0, 3, 0, 0, 0]
    assert list(only_scim.series) == ["scim"] and only_scim.total() == 6


def test_a_range_of_a_few_seconds_is_drawn_in_whole_seconds_across_the_axis(vault: Vault) -> None:
    write(vault, *[(timedelta(seconds=i), "scim.request", "success", {}) for i in range(10)])
    with vault.read_connection() as conn:
        series = events_by_type(conn, EventFilter(), BASE, BASE + timedelta(seconds=10, milliseconds=500), 48)
    assert series.step == timedelta(seconds=1) and series.slots == 11  # not 48 slots, most of them after the end
    assert series.series["scim"] == [1] * 10 + [0]
