"""The failure throttle, the per-minute failure tally and source keys, with fake clocks (issue 11 §3 §4)."""

from __future__ import annotations

from app.scim.auth import FailureThrottle
from app.scim.failures import FailureTally
from app.scim.sources import source_key
from tests.scim.hardening_support import FakeClock


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_source_keys_group_an_ipv6_64_and_unmap_ipv4() -> None:
    assert source_key("2001:db8:1:2::1") == source_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert source_key("2001:db8:1:3::1") != source_key("2001:db8:1:2::1")
    assert source_key("::ffff:192.0.2.7") == source_key("192.0.2.7") == "192.0.2.7"
    assert source_key("not-an-address") == source_key(None) == "unknown"


def test_a_source_is_throttled_after_its_limit_and_released_after_the_window() -> None:
    ticks = Ticks()
    throttle = FailureThrottle(max_failures=3, window=60, clock=ticks)
    notices = [throttle.record_failure("192.0.2.1") for _ in range(3)]
    assert notices[:2] == [[], []] and [n.scope for n in notices[2]] == ["source"]
    assert throttle.retry_after("192.0.2.1") == 61 and throttle.retry_after("192.0.2.2") is None
    ticks.now += 30
    assert throttle.retry_after("192.0.2.1") == 31
    ticks.now += 31
    assert throttle.retry_after("192.0.2.1") is None
    assert throttle.record_failure("192.0.2.1") == []  # counting starts afresh


def test_rotating_ipv6_addresses_in_one_64_count_as_one_source() -> None:
    throttle = FailureThrottle(max_failures=3, clock=Ticks())
    for host in range(3):
        throttle.record_failure(f"2001:db8::{host + 1:x}")
    assert throttle.retry_after("2001:db8::ffff") is not None


def test_many_sources_are_caught_by_the_global_limit_and_memory_stays_bounded() -> None:
    ticks = Ticks()
    throttle = FailureThrottle(max_failures=10, max_global=50, max_sources=20, clock=ticks)
    notices = [notice for n in range(60) for notice in throttle.record_failure(f"198.51.100.{n}")]
    assert [(n.scope, n.failures) for n in notices] == [("global", 50)]
    assert throttle.retry_after("203.0.113.1") is not None  # a source never seen: refused by the global limit
    assert len(throttle._sources) <= 20
    ticks.now += 61
    assert throttle.retry_after("203.0.113.1") is None


def test_the_tally_counts_per_source_and_minute_with_first_and_last() -> None:
    clock = FakeClock()
    tally = FailureTally(clock=clock)
    tally.note("192.0.2.1")
    clock.advance(10)
    tally.note("192.0.2.1", throttled=True)
    tally.note("2001:db8::1")
    assert tally.due() == []  # the minute is not over
    clock.advance(60)
    tally.note("192.0.2.1")
    ended = {e.details["source"]: e.details for e in tally.due()}
    assert ended["192.0.2.1"]["count"] == 2 and ended["192.0.2.1"]["throttled"] == 1
    assert ended["192.0.2.1"]["first"] < ended["192.0.2.1"]["last"]
    assert ended["2001:db8::/64"]["count"] == 1
    (rest,) = tally.due(everything=True)
    assert rest.details["count"] == 1 and tally.due(everything=True) == []


def test_the_tally_folds_sources_beyond_its_bound_into_other() -> None:
    tally = FailureTally(clock=FakeClock(), max_sources=3)
    for n in range(10):
        tally.note(f"198.51.100.{n}")
    entries = {e.details["source"]: e.details["count"] for e in tally.due(everything=True)}
    assert len(entries) == 4 and entries["other"] == 7 and sum(entries.values()) == 10
