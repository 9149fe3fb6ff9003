"""Alert rules for the hardened endpoint (issue 11): tallies of failed authentications weigh their count, a
throttle that engaged and a recorder that lost events each raise an alert with counts, never a token."""

from __future__ import annotations

from datetime import timedelta

from app.siem.cef import to_cef
from app.siem.ocsf import to_ocsf
from tests.siem.test_alerts import T0, Replay
from tests.siem.test_cef import event as cef_event
from tests.siem.test_cef import split_cef


def test_a_tally_of_failures_counts_as_its_count() -> None:
    replay = Replay()
    replay.feed("scim.auth.failed", T0, "anonymous", source="192.0.2.1", count=20)
    assert replay.findings == []  # 20 is the threshold, not above it
    replay.feed("scim.auth.failed", T0 + timedelta(minutes=1), "anonymous", source="192.0.2.2", count=2000)
    (finding,) = replay.findings
    assert finding.rule == "auth_failures" and finding.observed == 2020  # before: 2 entries, no alert
    replay.feed("scim.auth.failed", T0 + timedelta(minutes=7), "anonymous", source="192.0.2.2", count=5)
    assert len(replay.findings) == 1  # the first tally left the window, 2005 within it, but cooling down


def test_a_throttle_that_engaged_raises_one_alert_per_scope_and_cooldown() -> None:
    replay = Replay()
    replay.feed("scim.auth.throttled", T0, "system:scim", scope="source", source="192.0.2.1", failures=10,
                limit=10, window_seconds=60)  # fmt: skip
    replay.feed("scim.auth.throttled", T0 + timedelta(minutes=2), "system:scim", scope="source",
                source="192.0.2.9", failures=10, limit=10, window_seconds=60)  # fmt: skip
    replay.feed("scim.auth.throttled", T0 + timedelta(minutes=3), "system:scim", scope="global", failures=100,
                limit=100, window_seconds=60)  # fmt: skip
    assert [(f.rule, f.observed, f.threshold) for f in replay.findings] == [
        ("auth_throttled", 10, 10),
        ("auth_throttled", 100, 100),
    ]
    assert "192.0.2" not in " ".join(f.summary for f in replay.findings)


def test_a_throttle_alert_spans_the_window_the_limit_counted() -> None:
    """The throttle engaged at T0 on 10 failures within its 60 s window: the alert's window is those 60 s (it was
    T0 to T0, as if the failures had all happened when the limit engaged), in the finding, CEF and OCSF alike."""
    replay = Replay()
    replay.feed("scim.auth.throttled", T0, "system:scim", scope="source", source="192.0.2.1", failures=10,
                limit=10, window_seconds=60)  # fmt: skip
    (finding,) = replay.findings
    assert (finding.window_start, finding.window_end) == (T0 - timedelta(seconds=60), T0)
    details = {"rule": finding.rule, "observed": finding.observed, "threshold": finding.threshold,
               "window_start": finding.window_start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
               "window_end": finding.window_end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
    record = to_ocsf(cef_event("alert.raised", None, "system:alerts", **details))
    assert record["end_time"] - record["start_time"] == 60_000
    _, ext = split_cef(to_cef(cef_event("alert.raised", None, "system:alerts", **details)))
    assert int(ext["end"]) - int(ext["start"]) == 60_000


def test_refused_or_lost_audit_events_raise_an_alert() -> None:
    replay = Replay()
    replay.feed("audit.recorder.refused", T0, "system:audit-recorder", count=3, kinds={"scim.request": 3})
    (finding,) = replay.findings
    assert finding.rule == "audit_recorder" and finding.observed == 3


def test_a_tally_reaches_the_siem_as_one_aggregated_event() -> None:
    tally = cef_event("scim.auth.failed", None, "anonymous", "failure", source="192.0.2.7", count=250, throttled=240,
                      first="2026-11-27T10:00:01.000000Z", last="2026-11-27T10:00:59.000000Z")  # fmt: skip
    _header, ext = split_cef(to_cef(tally))
    assert ext["cnt"] == "250" and ext["src"] == "192.0.2.7" and ext["reason"] == "invalid_token"
    assert int(ext["end"]) - int(ext["start"]) == 58_000
    record = to_ocsf(tally)
    assert record["count"] == 250 and record["end_time"] - record["start_time"] == 58_000
    assert record["status_detail"] == "INVALID_CREDENTIALS"


def test_an_alert_on_a_tally_is_timed_by_the_failures_not_by_the_tally() -> None:
    """A tally is written at the end of its minute; the alert said its window began and ended then (20:06:00 to
    20:06:00 for failures tried from 20:05:13 to 20:05:21), and the SIEM got that as the alert's start and end."""
    replay = Replay()
    first, last = T0 + timedelta(seconds=13), T0 + timedelta(seconds=21)
    replay.feed("scim.auth.failed", T0 + timedelta(minutes=1), "anonymous", source="192.0.2.1", count=25,
                first=first.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), last=last.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))  # fmt: skip
    (finding,) = replay.findings
    assert (finding.window_start, finding.window_end) == (first, last)


def test_an_alert_over_two_tallies_spans_the_first_failure_to_the_last() -> None:
    replay = Replay()
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    for minute, count in ((0, 15), (1, 10)):
        start = T0 + timedelta(minutes=minute)
        replay.feed("scim.auth.failed", start + timedelta(minutes=1), "anonymous", source="192.0.2.1", count=count,
                    first=(start + timedelta(seconds=5)).strftime(stamp),
                    last=(start + timedelta(seconds=50)).strftime(stamp))  # fmt: skip
    (finding,) = replay.findings
    assert finding.observed == 25
    window = (finding.window_start, finding.window_end)
    assert window == (T0 + timedelta(seconds=5), T0 + timedelta(minutes=1, seconds=50))
