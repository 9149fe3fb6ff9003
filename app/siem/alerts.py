"""Anomaly rules over the audit trail; an alert is itself an audit entry, forwarded like any other.

Rules see events in trail order and use each event's own time, so replaying a recorded sequence gives the same
alerts as living through it. Each rule fires at most once per window (then stays quiet for that window).
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.audit.trail import Event, StoredEvent, append, read
from app.core.errors import ConfigError
from app.store.vault import Vault

log = logging.getLogger(__name__)
ACTOR = "system:alerts"


@dataclass(frozen=True)
class Threshold:
    count: int
    minutes: int


@dataclass(frozen=True)
class AlertConfig:
    mass_deprovisioning: Threshold = Threshold(50, 10)  # SCIM deletes
    auth_failures: Threshold = Threshold(20, 5)
    schema_rejections: Threshold = Threshold(20, 10)
    bulk_exports: Threshold = Threshold(5, 10)  # subject-access exports
    new_token_source: bool = True
    working_hours: tuple[int, int] | None = None  # e.g. (7, 19): writes outside are flagged; None = off
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0


def load_alert_config(data_dir: Path) -> AlertConfig:
    """``alerts.toml`` in the data folder overrides the defaults, e.g.::

    [mass_deprovisioning]
    count = 100
    minutes = 10
    [working_hours]
    start = 7
    end = 19
    days = [0, 1, 2, 3, 4]
    """
    path = data_dir / "alerts.toml"
    if not path.is_file():
        return AlertConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path.name} cannot be read: {exc}") from exc
    values: dict[str, object] = {}
    for rule in ("mass_deprovisioning", "auth_failures", "schema_rejections", "bulk_exports"):
        table = raw.get(rule)
        if isinstance(table, dict):
            default: Threshold = getattr(AlertConfig(), rule)
            values[rule] = Threshold(int(table.get("count", default.count)), int(table.get("minutes", default.minutes)))
    if "new_token_source" in raw:
        values["new_token_source"] = bool(raw["new_token_source"])
    hours = raw.get("working_hours")
    if isinstance(hours, dict):
        values["working_hours"] = (int(hours.get("start", 7)), int(hours.get("end", 19)))
        values["working_days"] = tuple(int(d) for d in hours.get("days", (0, 1, 2, 3, 4)))
    return AlertConfig(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AlertRaised:
    """Published on the EventBus for the app's notification and badge."""

    seq: int
    rule: str
    observed: int
    summary: str


_COUNTED = {
    "mass_deprovisioning": ("scim.resource.deleted",),
    "auth_failures": ("scim.auth.failed",),
    "schema_rejections": ("scim.attributes.rejected",),
    "bulk_exports": ("export.subject",),
}
_WRITES = ("scim.resource.",)


def _time(event: StoredEvent) -> datetime:
    return datetime.fromisoformat(event.at.replace("Z", "+00:00"))


@dataclass
class _Window:
    threshold: Threshold
    times: deque[datetime] = field(default_factory=deque)
    quiet_until: datetime | None = None

    def add(self, moment: datetime) -> int | None:
        """The count when it crosses the threshold (once per window), else None."""
        self.times.append(moment)
        horizon = moment - timedelta(minutes=self.threshold.minutes)
        while self.times and self.times[0] < horizon:
            self.times.popleft()
        if len(self.times) > self.threshold.count and (self.quiet_until is None or moment >= self.quiet_until):
            self.quiet_until = moment + timedelta(minutes=self.threshold.minutes)
            return len(self.times)
        return None


class AlertEngine:
    def __init__(self, vault: Vault, config: AlertConfig | None = None) -> None:
        self.vault = vault
        self.config = config or AlertConfig()
        self.on_alert: list[Callable[[AlertRaised], None]] = []  # e.g. open a candidate incident, notify the UI
        self._windows = {rule: _Window(getattr(self.config, rule)) for rule in _COUNTED}
        self._sources: set[tuple[str, str]] = set()
        self._after_hours_quiet: datetime | None = None
        self.last_seq = 0

    def observe(self, event: StoredEvent) -> list[tuple[str, int, str]]:
        """Feed one event; returns the alerts it raises as (rule, observed, summary)."""
        if event.kind.startswith("alert."):
            return []
        raised = []
        moment = _time(event)
        for rule, kinds in _COUNTED.items():
            if event.kind in kinds:
                count = self._windows[rule].add(moment)
                if count is not None:
                    t = self._windows[rule].threshold
                    raised.append(
                        (rule, count, f"{count} {kinds[0]} events within {t.minutes} min (threshold {t.count})")
                    )
        if self.config.new_token_source and event.kind == "scim.request" and event.actor.startswith("token:"):
            source = str(event.details.get("source", ""))
            pair = (event.actor, source)
            if source and pair not in self._sources:
                known_token = any(actor == event.actor for actor, _ in self._sources)
                self._sources.add(pair)
                if known_token:
                    raised.append(("new_token_source", 1, f"{event.actor} used from a new address {source}"))
        hours = self.config.working_hours
        if hours and event.kind.startswith(_WRITES):
            local = moment.astimezone()
            outside = local.weekday() not in self.config.working_days or not hours[0] <= local.hour < hours[1]
            if outside and (self._after_hours_quiet is None or moment >= self._after_hours_quiet):
                self._after_hours_quiet = moment + timedelta(hours=1)
                raised.append(("after_hours", 1, f"{event.kind} outside working hours"))
        return raised

    def process_new(self) -> list[AlertRaised]:
        """Read events after the last one seen, evaluate them, and record each alert on the trail."""
        alerts: list[AlertRaised] = []
        with self.vault.read_connection() as conn:
            events = list(read(conn, self.last_seq + 1))
        found = []
        for event in events:
            self.last_seq = event.seq
            found += [(event, rule, observed, summary) for rule, observed, summary in self.observe(event)]
        if found:
            with self.vault.write_transaction() as conn:
                for event, rule, observed, summary in found:
                    details = {"rule": rule, "observed": observed, "summary": summary, "trigger_seq": event.seq}
                    stored = append(conn, Event("alert.raised", ACTOR, "failure", details=details))
                    alerts.append(AlertRaised(stored.seq, rule, observed, summary))
        for alert in alerts:
            for callback in self.on_alert:
                try:
                    callback(alert)
                except Exception as exc:  # a failing listener must not stop the others or the engine
                    log.error("alert listener failed: %s", type(exc).__name__)
        return alerts

    def skip_history(self) -> None:
        """Start from the current end of the trail (learning the token sources seen so far)."""
        with self.vault.read_connection() as conn:
            for event in read(conn, 1):
                self.last_seq = event.seq
                if event.kind == "scim.request" and event.actor.startswith("token:"):
                    self._sources.add((event.actor, str(event.details.get("source", ""))))


class AlertWatcher:
    """Runs the engine every ``interval`` seconds in a thread (in the app and in serve)."""

    def __init__(self, engine: AlertEngine, interval: float = 2.0) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="custos-alerts", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        started = False
        while not self._stop.wait(0 if not started else self.interval):
            if not self.engine.vault.is_open:
                continue
            try:
                if not started:
                    self.engine.skip_history()
                    started = True
                self.engine.process_new()
            except Exception as exc:  # the next round tries again
                log.error("alert rules failed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
