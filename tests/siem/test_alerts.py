"""Anomaly rules on replayed event sequences (by the events' own times), and the engine that records alerts."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.audit.trail import Event, StoredEvent, append, of_kind
from app.core.errors import ConfigError
from app.core.events import EventBus
from app.siem import alerts
from app.siem.alerts import AlertEngine, AlertRaised
from app.siem.cef import to_cef
from app.siem.config import AlertConfig, Threshold, WorkingHours, load_alert_config, parse_alerts
from app.siem.ocsf import to_ocsf
from app.siem.rules import BulkReads, Finding, ReadTally, build_rules, evaluate
from app.store.vault import Vault
from tests.conftest import LiveServer, new_user
from tests.siem.conftest import add_events

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday


class Replay:
    """Feeds made-up entries to the rules, as the trail would (increasing seq, given times)."""

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.rules = build_rules(config or AlertConfig())
        self.seq = 0
        self.findings: list[Finding] = []

    def feed(self, kind: str, at: datetime, actor: str = "token:okta", **details: Any) -> list[Finding]:
        self.seq += 1
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        found = evaluate(self.rules, StoredEvent(self.seq, stamp, kind, actor, "success", None, details, "", ""))
        self.findings += found
        return found

    def many(self, kind: str, n: int, start: datetime, step: timedelta, **details: Any) -> None:
        for i in range(n):
            self.feed(kind, start + step * i, **details)

    def rules_fired(self) -> list[str]:
        return [finding.rule for finding in self.findings]


def normal_day(replay: Replay) -> None:
    """A busy but ordinary day: syncs, a few deletes, some typos in tokens, a rejected attribute or two."""
    for minute in range(0, 8 * 60, 2):
        moment = T0 - timedelta(hours=2) + timedelta(minutes=minute)
        replay.feed("scim.request", moment, method="GET", endpoint="Users", status=200, source="10.0.0.5")
        if minute % 20 == 0:
            replay.feed("scim.resource.deleted", moment)
        if minute % 30 == 0:
            replay.feed("scim.auth.failed", moment, "anonymous", source="198.51.100.7")
            replay.feed("scim.attributes.rejected", moment, attributes=["employeeNumber"], count=1)
        if minute % 120 == 0:
            replay.feed("export.subject", moment, "operator:dpo")


def test_500_deletes_in_60_seconds_raise_exactly_one_alert() -> None:
    replay = Replay()
    replay.many("scim.resource.deleted", 500, T0, timedelta(seconds=60 / 500))
    (finding,) = replay.findings
    assert finding.rule == "mass_deprovisioning" and finding.observed == 51 and finding.threshold == 50
    assert finding.window_minutes == 10 and finding.trigger_seq == 51


def test_an_export_of_two_files_is_one_export() -> None:
    """A subject-access export writes a JSON and a PDF file, each on the trail: 3 exports made "6 subject-access
    exports within 10 min (threshold 5)" on the old code. Now 5 exports stay quiet and the sixth fires, counted 6."""

    def exports(n: int) -> Replay:
        replay = Replay()
        for i in range(n):
            for fmt in ("json", "pdf"):
                replay.feed("export.subject", T0 + timedelta(minutes=i), "operator:dpo", format=fmt)
        return replay

    assert exports(5).findings == []
    (finding,) = exports(6).findings
    assert (finding.rule, finding.observed, finding.threshold) == ("bulk_exports", 6, 5)
    assert finding.summary == "6 subject-access exports within 10 min (threshold 5)"


def test_normal_traffic_stays_quiet() -> None:
    replay = Replay()
    normal_day(replay)
    assert replay.seq >= 300 and replay.findings == []


@pytest.mark.parametrize(
    ("kind", "rule", "threshold", "minutes", "details"),
    [
        ("scim.auth.failed", "auth_failures", 20, 5, {"source": "203.0.113.9"}),
        ("scim.attributes.rejected", "schema_rejections", 20, 10, {"attributes": ["ssn"], "count": 1}),
        ("export.subject", "bulk_exports", 5, 10, {"format": "json"}),
    ],
)
def test_bursts_fire_above_the_threshold_only(
    kind: str, rule: str, threshold: int, minutes: int, details: dict[str, Any]
) -> None:
    step = timedelta(minutes=minutes) / (threshold + 2)
    at_threshold = Replay()
    at_threshold.many(kind, threshold, T0, step, **details)  # exactly N: not more than N
    assert at_threshold.findings == []
    above = Replay()
    above.many(kind, threshold + 1, T0, step, **details)
    assert above.rules_fired() == [rule]
    spread = Replay()
    spread.many(kind, threshold * 3, T0, timedelta(minutes=minutes) / threshold * 1.2, **details)  # too slow
    assert spread.findings == []


def test_a_sustained_flood_fires_once_per_window() -> None:
    replay = Replay()
    replay.many("scim.resource.deleted", 150, T0, timedelta(seconds=10))  # 25 minutes at 6 a minute
    fired = [f.window_end - T0 for f in replay.findings]
    assert fired == [timedelta(seconds=500), timedelta(seconds=1100)]  # the 51st, then one window later


def test_windows_count_each_entry_by_its_own_time_whatever_its_place_in_the_trail() -> None:
    """Trail order is the order of writing; request entries are timed when answered and written later (decision
    0034), and two processes' batches can interleave. A window ends at the newest time seen and counts by time."""
    replay = Replay(AlertConfig(mass_deprovisioning=Threshold(2, 1)))
    replay.feed("scim.resource.deleted", T0 + timedelta(seconds=60))
    replay.feed("scim.resource.deleted", T0 + timedelta(seconds=0.5))  # written after a later one
    assert replay.feed("scim.resource.deleted", T0 + timedelta(seconds=60.8)) == []  # 2 in [0.8 s, 60.8 s]
    assert replay.feed("scim.resource.deleted", T0 + timedelta(seconds=30)) != []  # 3 in [0.8 s, 60.8 s]
    (finding,) = replay.findings
    assert (finding.observed, finding.window_start, finding.window_end) == (
        3, T0 + timedelta(seconds=30), T0 + timedelta(seconds=60.8)
    )
    reads = Replay(AlertConfig(bulk_read_results=2500, bulk_read_minutes=10))
    for minute in (11, 0):  # the page read at minute 0 was written after the one read at minute 11
        assert reads.feed("scim.request", T0 + timedelta(minutes=minute), method="GET", results=1000) == []
    assert reads.feed("scim.request", T0 + timedelta(minutes=11.5), method="GET", results=1000) == []  # 2,000


def test_new_source_for_a_known_token() -> None:
    replay = Replay()
    assert replay.feed("scim.request", T0, source="10.0.0.1") == []  # a token's first address: learnt
    assert replay.feed("scim.request", T0, source="10.0.0.1") == []
    assert replay.feed("scim.request", T0, "token:entra", source="10.9.9.9") == []  # another token's first
    assert replay.feed("scim.request", T0, source="unknown") == []
    (finding,) = replay.feed("scim.request", T0 + timedelta(seconds=1), source="192.0.2.44")
    assert finding.rule == "new_token_source" and "192.0.2.44" not in finding.summary  # the address stays put
    assert replay.feed("scim.request", T0 + timedelta(seconds=2), source="192.0.2.44") == []
    assert replay.feed("scim.request", T0, "operator:x", token="okta", source="192.0.2.45")[0].rule == (
        "new_token_source"  # details.token names the token too
    )
    quiet = Replay(AlertConfig(new_token_source=False))
    quiet.feed("scim.request", T0, source="10.0.0.1")
    assert quiet.feed("scim.request", T0, source="10.0.0.2") == []


def test_bulk_reads() -> None:
    replay = Replay()
    assert replay.feed("scim.request", T0, method="GET", results=5001)[0].rule == "bulk_reads"
    assert replay.feed("scim.request", T0 + timedelta(minutes=1), method="GET", results=9000) == []  # cool-down


def test_bulk_reads_add_up_the_pages_of_one_client_within_the_window() -> None:
    replay = Replay(AlertConfig(bulk_read_results=2500, bulk_read_minutes=10))
    pages = [replay.feed("scim.request", T0 + timedelta(seconds=i), method="GET", results=1000) for i in range(2)]
    assert pages == [[], []]  # 2,000 so far
    other = replay.feed("scim.request", T0 + timedelta(seconds=3), actor="token:entra", method="GET", results=1000)
    assert other == []  # another client's pages are its own
    (finding,) = replay.feed("scim.request", T0 + timedelta(seconds=4), method="GET", results=1000)
    assert (finding.rule, finding.observed, finding.threshold, finding.window_minutes) == ("bulk_reads", 3000, 2500, 10)
    assert finding.summary == "3000 resources read by token okta within 10 min (threshold 2500)"  # which client
    slow = Replay(AlertConfig(bulk_read_results=2500, bulk_read_minutes=10))
    for minute in (0, 11, 22):  # the same pages, too far apart to add up
        assert slow.feed("scim.request", T0 + timedelta(minutes=minute), method="GET", results=1000) == []


def test_a_paged_read_over_https_raises_the_bulk_read_alert(live: LiveServer) -> None:
    with live.client() as http:
        for n in range(6):
            assert http.post("/Users", json=new_user(f"bulk-read-{n}")).status_code == 201
        seen, start = 0, 1
        while True:
            page = http.get("/Users", params={"count": 2, "startIndex": start}).json()
            seen += len(page["Resources"])
            if start + len(page["Resources"]) > page["totalResults"] or not page["Resources"]:
                break
            start += len(page["Resources"])
    assert live.server.recorder is not None
    live.server.recorder.flush()
    with live.server.vault.read_connection() as conn:
        listed = [e for e in of_kind(conn, "scim.request", limit=50) if e.details.get("method") == "GET"]
    assert listed and all(e.details["results"] <= 2 for e in listed)
    assert sum(e.details["results"] for e in listed) >= 6 and listed[0].details["total_results"] >= 6
    engine = AlertEngine(live.server.vault, AlertConfig(bulk_read_results=5, bulk_read_minutes=10))
    raised = [a for a in engine.process_new() if a.rule == "bulk_reads"]
    assert raised and raised[0].observed > 5


def test_working_hours_with_a_time_zone() -> None:
    hours = WorkingHours(start=datetime(1, 1, 1, 8).time(), end=datetime(1, 1, 1, 18).time(), timezone="Europe/Berlin")
    replay = Replay(AlertConfig(working_hours=hours))
    friday_1730_berlin = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert replay.feed("scim.resource.created", friday_1730_berlin) == []
    assert replay.feed("retention.purged", friday_1730_berlin + timedelta(hours=3), "system:retention") == []
    (late,) = replay.feed("export.subject", friday_1730_berlin + timedelta(hours=1), "operator:dpo")  # 18:30
    assert late.rule == "after_hours" and late.summary == "export.subject outside working hours"
    assert replay.feed("export.subject", friday_1730_berlin + timedelta(hours=1, minutes=30), "operator:dpo") == []
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, but a Saturday
    assert replay.rules_fired() == ["after_hours"]
    assert [f.rule for f in replay.feed("scim.resource.patched", saturday)] == ["after_hours"]

    new_york = Replay(AlertConfig(working_hours=WorkingHours(timezone="America/New_York")))  # 07:00-19:00
    assert new_york.feed("export.subject", friday_1730_berlin + timedelta(hours=1), "operator:dpo") == []  # 12:30
    assert Replay().feed("export.subject", saturday, "operator:dpo") == []  # off by default


def test_destroying_a_backup_key_epoch_at_night_alerts_and_a_rotation_does_not() -> None:
    """Destroying an epoch puts its backups beyond use for good: at 03:00 it is what an intruder sabotaging recovery
    would do. A rotation is what a nightly backup does every 30 days (decision 0067)."""
    replay = Replay(AlertConfig(working_hours=WorkingHours(timezone="UTC")))
    night = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # a Tuesday
    assert replay.feed("vault.backup_key.began", night, "operator:cron") == []
    assert replay.feed("vault.backup.created", night, "operator:cron") == []
    (late,) = replay.feed("vault.backup_key.destroyed", night + timedelta(minutes=5), "operator:cron")
    assert late.rule == "after_hours" and late.summary == "vault.backup_key.destroyed outside working hours"


def test_a_night_shift_crosses_midnight() -> None:
    """A team working 22:00 to 06:00 (a night shift, an operations centre) could not say so: a start after the end
    was refused, so the rule either stayed off or alerted on every action of the shift. The window belongs to the
    days it starts on: Monday 22:00 to Tuesday 06:00 for "mon"."""
    table = {"enabled": True, "start": "22:00", "end": "06:00", "days": ["mon", "tue", "wed", "thu", "fri"],
             "timezone": "UTC"}  # fmt: skip
    replay = Replay(parse_alerts({"working_hours": table}))
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    inside = [monday + timedelta(hours=23), monday + timedelta(days=1, hours=3),  # Mon 23:00, Tue 03:00
              monday + timedelta(days=5, hours=5, minutes=59)]  # Saturday 05:59: Friday's shift  # fmt: skip
    for n, moment in enumerate(inside):
        assert replay.feed("export.subject", moment, f"operator:dpo{n}") == [], moment
    outside = [monday + timedelta(hours=21), monday + timedelta(days=1, hours=12),  # Mon 21:00, Tue noon
               monday + timedelta(hours=3),  # Monday 03:00: Sunday started no shift
               monday + timedelta(days=5, hours=23)]  # Saturday 23:00  # fmt: skip
    for n, moment in enumerate(outside):
        assert [f.rule for f in replay.feed("export.subject", moment, f"operator:ops{n}")] == ["after_hours"], moment


def recorded_alerts(vault: Vault) -> list[StoredEvent]:
    with vault.read_connection() as conn:
        return list(reversed(of_kind(conn, "alert.raised")))


def test_engine_records_forwards_and_announces_one_alert(vault: Vault) -> None:
    bus = EventBus()
    published: list[object] = []
    bus.subscribe(published.append)
    fixed = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
    engine = AlertEngine(vault, AlertConfig(), clock=lambda: fixed, bus=bus)
    heard: list[AlertRaised] = []
    engine.on_alert += [lambda alert: 1 / 0, heard.append]  # a failing listener does not stop the next one
    add_events(vault, 500, "scim.resource.deleted", T0, timedelta(seconds=0.12), resource_type="User")
    alerts = engine.process_new()
    assert [a.rule for a in alerts] == ["mass_deprovisioning"] and heard == alerts and published == alerts
    assert engine.process_new() == []  # its own entry is not input

    (stored,) = recorded_alerts(vault)
    assert (
        stored.seq == alerts[0].seq and stored.at == "2026-11-27T10:05:00.000000Z" and stored.actor == "system:alerts"
    )
    assert set(stored.details) == {"rule", "threshold", "observed", "window_minutes", "window_start", "window_end",
                                   "trigger_seq", "summary"}  # fmt: skip
    assert stored.details["threshold"] == 50 and stored.details["observed"] == 51 and stored.subject is None
    record = to_ocsf(stored)
    assert record["class_uid"] == 2004 and record["event"]["kind"] == "alert"
    assert record["finding_info"]["types"] == ["anomaly.mass_deprovisioning"] and record["count"] == 51
    assert "|anomaly.mass_deprovisioning|Anomalous bulk deprovisioning|9|" in to_cef(stored)
    json.dumps(record)


def test_engine_resumes_where_it_stopped(vault: Vault) -> None:
    add_events(vault, 200, "scim.resource.deleted", T0, timedelta(seconds=0.1))  # history before the first start
    first = AlertEngine(vault)
    first.resume()  # first start: from the end of the trail, history is not re-alerted
    assert first.process_new() == []
    add_events(vault, 60, "scim.resource.deleted", T0 + timedelta(hours=1), timedelta(seconds=1))
    assert [a.rule for a in first.process_new()] == ["mass_deprovisioning"]

    # Stopped; more deletes in the same window, and a burst of exports while nothing ran.
    add_events(vault, 30, "scim.resource.deleted", T0 + timedelta(hours=1, minutes=2), timedelta(seconds=1))
    add_events(vault, 6, "export.subject", T0 + timedelta(hours=1, minutes=3), timedelta(seconds=5), "operator:x")
    second = AlertEngine(vault)
    second.resume()  # the cursor says where the first stopped; the windows are refilled silently
    assert [a.rule for a in second.process_new()] == ["bulk_exports"]  # the deletes were already alerted
    assert [a.details["rule"] for a in recorded_alerts(vault)] == ["mass_deprovisioning", "bulk_exports"]


def test_the_watcher_alerts_on_entries_written_just_after_its_first_start(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first start (no cursor yet) takes the trail as it is at start() as history. The watcher read that end on
    its own thread, later: deletes committed between start() returning and that read counted as history too,
    replayed silently, and no alert was ever raised for them. Here its thread is held until they are written."""
    add_events(vault, 20, "scim.resource.deleted", T0, timedelta(seconds=0.1))  # history before the first start
    watcher = alerts.AlertWatcher(AlertEngine(vault), interval=0.05)
    deletes_written = threading.Event()
    resume = watcher.engine.resume

    def held_resume(*args: Any) -> None:
        assert deletes_written.wait(10)
        resume(*args)

    monkeypatch.setattr(watcher.engine, "resume", held_resume)
    watcher.start()
    try:
        add_events(vault, 60, "scim.resource.deleted", datetime.now(UTC), timedelta(seconds=1))
    finally:
        deletes_written.set()
        watcher.stop()  # its last pass judges what it had not yet seen
    assert [a.details["rule"] for a in recorded_alerts(vault)] == ["mass_deprovisioning"]


def test_engine_learns_token_addresses_from_history(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    add_events(vault, 3, "scim.request", T0)  # from 127.0.0.1
    add_events(vault, 5, "policy.applied", T0, actor="operator:x")
    monkeypatch.setattr(alerts, "WARM_UP", 2)  # the requests are older than the replayed entries: read by SQL
    engine = AlertEngine(vault)
    engine.resume()
    with vault.write_transaction() as conn:
        append(conn, Event("scim.request", "token:okta", details={"source": "127.0.0.1"}, at=T0))
        append(conn, Event("scim.request", "token:okta", details={"source": "192.0.2.1"}, at=T0))
    assert [a.rule for a in engine.process_new()] == ["new_token_source"]


def test_observe_one_entry(vault: Vault) -> None:
    engine = AlertEngine(vault, AlertConfig(bulk_exports=Threshold(0, 10)))
    with vault.write_transaction() as conn:
        stored = append(conn, Event("export.subject", "operator:dpo", details={"format": "json"}))
    assert [a.rule for a in engine.observe(stored)] == ["bulk_exports"]
    assert len(recorded_alerts(vault)) == 1


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_configuration_file(tmp_path: Path) -> None:
    assert load_alert_config(tmp_path) == AlertConfig()  # the defaults
    assert AlertConfig().mass_deprovisioning == Threshold(50, 10) and AlertConfig().working_hours is None
    write(tmp_path, "alerts.toml", "[mass_deprovisioning]\ncount = 5\nminutes = 1\n[working_hours]\nstart = 8\n")
    legacy = load_alert_config(tmp_path)  # the earlier file name and layout still work
    assert legacy.mass_deprovisioning == Threshold(5, 1) and legacy.working_hours is not None
    assert (legacy.working_hours.start.hour, legacy.working_hours.end.hour) == (8, 19)
    write(tmp_path, "siem.toml", """
[alerts.auth_failures]
count = 3
[alerts.bulk_reads]
results = 100
[alerts.new_token_source]
enabled = false
[alerts.working_hours]
enabled = true
start = "06:30"
end = "20:00"
days = ["mon", "tue", "sat"]
timezone = "Europe/Lisbon"
""")  # fmt: skip
    config = load_alert_config(tmp_path)  # siem.toml wins over alerts.toml
    assert config.auth_failures == Threshold(3, 5) and config.mass_deprovisioning == Threshold(50, 10)
    assert config.bulk_read_results == 100 and config.new_token_source is False
    assert config.working_hours == WorkingHours(start=datetime(1, 1, 1, 6, 30).time(), end=datetime(1, 1, 1, 20).time(),
                                                days=(0, 1, 5), timezone="Europe/Lisbon")  # fmt: skip
    write(tmp_path, "siem.toml", "[alerts.working_hours]\nstart = 8\n")
    assert load_alert_config(tmp_path).working_hours is None  # present but not enabled


@pytest.mark.parametrize(
    "text",
    [
        "[alerts.auth_failures]\ncount = -1\n",
        "[alerts.auth_failures]\ncount = 'many'\n",
        "[alerts.working_hours]\nenabled = true\ntimezone = 'Mars/Olympus'\n",
        "[alerts.working_hours]\nenabled = true\nstart = '07:00'\nend = '07:00'\n",
        "[alerts.working_hours]\nenabled = true\ndays = ['someday']\n",
        "alerts = 3\n",
        "[alerts\n",
    ],
)
def test_configuration_errors_are_explained(tmp_path: Path, text: str) -> None:
    write(tmp_path, "siem.toml", text)
    with pytest.raises(ConfigError):
        load_alert_config(tmp_path)


def test_an_alert_is_not_lost_when_recording_fails(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = AlertEngine(vault)
    add_events(vault, 60, "scim.resource.deleted", T0)

    def locked() -> None:
        raise RuntimeError("vault locked")

    monkeypatch.setattr(vault, "write_transaction", locked)
    with pytest.raises(RuntimeError):
        engine.process_new()
    monkeypatch.undo()
    assert [a.rule for a in engine.process_new()] == ["mass_deprovisioning"]  # kept, recorded once
    assert engine.process_new() == [] and len(recorded_alerts(vault)) == 1


def test_bulk_reads_keep_one_tally_per_second_not_one_entry_per_request() -> None:
    """A client reading steadily (every request is a trail entry) must not grow the rule with every entry: it
    kept each one and summed them all again at each, and a server under sustained reads slowed to a third in a
    minute (benchmarks: userName eq 2,069/s → 607/s after 30 s, the alerts thread on top of the profile)."""
    import tracemalloc

    rule = BulkReads(results=10**9, minutes=10)
    start = T0.astimezone(UTC)

    def read(i: int) -> None:  # 1,000 one-result lookups a second, for 100 seconds
        moment = start + timedelta(microseconds=1000 * i)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rule.observe(StoredEvent(i, stamp, "scim.request", "token:okta", "success", None, {"results": 1}, "", ""),
                     moment)  # fmt: skip

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(100_000):
            read(i)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert rule.reads["token:okta"].total == 100_000  # every read counted: all are within the ten minutes
    assert kept < 200_000, kept  # a hundred seconds' tallies (one entry per request was about 10 MB)


def test_bulk_reads_never_count_a_read_older_than_the_window() -> None:
    """A second leaves the window whole once its first read is older: the count may be short by reads of that
    second still inside, never over (the alert says "within 10 min", and that must hold)."""
    tally = ReadTally(timedelta(minutes=10))
    tally.add(T0 + timedelta(milliseconds=100), 1000)
    tally.add(T0 + timedelta(milliseconds=900), 1000)
    assert tally.add(T0 + timedelta(minutes=10), 1) == 2001  # T0+0.1 s is exactly ten minutes old: still in
    assert tally.add(T0 + timedelta(minutes=10, milliseconds=500), 1) == 2  # the second went: 1,000 short, none over
    assert tally.start == T0 + timedelta(minutes=10)


def test_a_read_tally_counts_late_entries_in_their_own_second() -> None:
    """Request entries are written in batches, so one timed earlier can follow a later one in the trail."""
    tally = ReadTally(timedelta(minutes=10))
    tally.add(T0 + timedelta(seconds=30), 10)
    tally.add(T0 + timedelta(seconds=5), 1)  # written later, timed earlier: its own second, before the other
    tally.add(T0 + timedelta(seconds=30, milliseconds=400), 2)  # the same second as the first
    assert [(s.second - T0).seconds for s in tally.seconds] == [5, 30] and tally.total == 13
    assert tally.start == T0 + timedelta(seconds=5) and tally.end == T0 + timedelta(seconds=30, milliseconds=400)
    assert tally.add(T0 + timedelta(minutes=10, seconds=6), 1) == 13  # the window moved past second 5 only
    assert tally.add(T0 + timedelta(seconds=1), 50) == 13  # late and already outside the window: not counted


def test_an_idp_syncing_at_night_does_not_hide_an_operator_acting_at_night() -> None:
    """Entra ID provisions around the clock: its 02:00 sync alerts, and an operator's token at 02:10 alerts too."""
    replay = Replay(AlertConfig(working_hours=WorkingHours(timezone="Europe/Paris")))
    night = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 02:00 in Paris, a Thursday
    (sync,) = replay.feed("scim.resource.patched", night, "token:entra")
    assert replay.feed("scim.resource.patched", night + timedelta(minutes=5), "token:entra") == []  # its cooldown
    (token,) = replay.feed("token.created", night + timedelta(minutes=10), "operator:alice")
    assert token.summary == "token.created outside working hours" and token.trigger_seq == replay.seq
    (export,) = replay.feed("export.subject", night + timedelta(minutes=12), "operator:bob")
    assert replay.feed("export.subject", night + timedelta(minutes=20), "operator:bob") == []
    assert [f.rule for f in (sync, token, export)] == ["after_hours"] * 3
    (again,) = replay.feed("token.created", night + timedelta(minutes=25), "operator:bob")  # another kind: news
    assert again.summary == "token.created outside working hours"


def test_history_replayed_on_the_first_start_does_not_silence_the_first_live_alert(vault: Vault) -> None:
    """`init` out of hours is history (never alerted); the IdP's first changes minutes later are news."""
    hours = WorkingHours(timezone="Europe/Paris")
    night = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 02:00 in Paris
    with vault.write_transaction() as conn:
        append(conn, Event("token.created", "operator:admin", details={"token": "entra"}, at=night))
    add_events(vault, 40, "scim.resource.deleted", night, timedelta(seconds=1), "token:entra")
    engine = AlertEngine(vault, AlertConfig(working_hours=hours, mass_deprovisioning=Threshold(50, 10)))
    engine.resume()  # the first start: nothing in the trail is alerted on
    assert engine.process_new() == []
    add_events(vault, 20, "scim.resource.deleted", night + timedelta(minutes=2), timedelta(seconds=1), "token:entra")
    raised = engine.process_new()
    assert sorted(a.rule for a in raised) == ["after_hours", "mass_deprovisioning"]
    (mass,) = [a for a in raised if a.rule == "mass_deprovisioning"]
    assert mass.observed == 51  # the window was refilled by history: the count is what happened in it


def test_a_restart_keeps_only_the_quiet_periods_of_alerts_that_were_raised(vault: Vault) -> None:
    """Restarted with a cursor, the replay sees `init` again: never alerted, so it silences nothing on this start
    either; an alert that was raised keeps its cooldown across the restart."""
    hours = WorkingHours(timezone="Europe/Paris")
    config = AlertConfig(working_hours=hours)
    night = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 02:00 in Paris
    with vault.write_transaction() as conn:
        append(conn, Event("token.created", "operator:admin", details={"token": "entra"}, at=night))
    first = AlertEngine(vault, config)
    first.resume()
    add_events(vault, 1, "scim.resource.patched", night + timedelta(minutes=1), actor="token:entra")
    assert [a.rule for a in first.process_new()] == ["after_hours"]  # the IdP's, raised and recorded

    second = AlertEngine(vault, config)  # a restart: the cursor is there now
    second.resume()
    add_events(vault, 1, "scim.resource.patched", night + timedelta(minutes=3), actor="token:entra")
    assert second.process_new() == []  # the IdP's alert was raised: its hour of quiet carries over
    with vault.write_transaction() as conn:
        append(conn, Event("export.subject", "operator:admin", at=night + timedelta(minutes=4)))
    assert [a.rule for a in second.process_new()] == ["after_hours"]  # init was never alerted: no quiet for admin


def test_resuming_on_a_pruned_trail_replays_nothing_after_the_cursor(vault: Vault) -> None:
    """The warm-up read 'the WARM_UP entries before the cursor' from seq 0: on a trail pruned up to a checkpoint
    (decision 0055) that read ran past the cursor, so the news was replayed as history and then evaluated again:
    40 deletes counted as 80, and a mass-deprovisioning alert was raised for a threshold of 50."""
    from app.audit import prune
    from app.audit.checkpoints import checkpoint_now
    from app.siem import spool

    start = datetime.now(UTC) + timedelta(days=1)  # after the template vault's own entries
    add_events(vault, 100, "scim.request", start, timedelta(seconds=1))
    with vault.write_transaction() as conn:
        checkpoint_now(conn)
        spool.advance(conn, spool.ALERTS, spool.last_seq(conn))  # the engine stopped here
    add_events(vault, 40, "scim.resource.deleted", start + timedelta(hours=1), timedelta(seconds=1))
    with vault.write_transaction() as conn:
        chosen = prune.plan(conn, "P1D", start + timedelta(minutes=30))
        assert prune.prune(conn, chosen, start + timedelta(hours=2)) is not None
    engine = AlertEngine(vault)
    engine.resume()
    assert engine.process_new() == []  # 40 deletes, below the threshold of 50
