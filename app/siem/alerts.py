"""The alert engine: feeds trail entries to the anomaly rules and records each finding as an audit entry.

An alert is an ``alert.raised`` entry (rule, threshold, observed count, window: no personal data), so it is
verified, exported and forwarded to the SIEM like any other entry. It is then handed to the ``on_alert``
callbacks (the incident register opens a candidate incident) and published on the EventBus, if one is given,
for the app's notification and badge.

The engine keeps its place in the trail in a cursor (app.siem.spool), so entries written while it was not
running (a command-line export while the app was closed) are still evaluated when it starts again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from app.audit.tables import AuditEvent
from app.audit.trail import Event, StoredEvent, append, iso_utc
from app.core.events import AlertRaised, EventBus
from app.core.periodic import BackgroundService
from app.siem import spool
from app.siem.config import AlertConfig, Threshold, WorkingHours, load_alert_config
from app.siem.rules import CONFIGURATION_RULES, Finding, NewTokenSource, build_rules, evaluate
from app.siem.spool import tail
from app.store.vault import Vault

__all__ = ["AlertConfig", "AlertEngine", "AlertRaised", "AlertWatcher", "Threshold", "WorkingHours",
           "load_alert_config", "tail"]  # fmt: skip

log = logging.getLogger(__name__)
ACTOR = "system:alerts"
KIND = "alert.raised"
WARM_UP = 5000  # entries before the cursor replayed silently on start, so windows and cool-downs carry over
_A = AuditEvent.__table__


def alert_details(finding: Finding) -> dict[str, object]:
    return {
        "rule": finding.rule,
        "threshold": finding.threshold,
        "observed": finding.observed,
        "window_minutes": finding.window_minutes,
        "window_start": iso_utc(finding.window_start),
        "window_end": iso_utc(finding.window_end),
        "trigger_seq": finding.trigger_seq,
        "summary": finding.summary,
    }


class AlertEngine:
    def __init__(
        self,
        vault: Vault,
        config: AlertConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self.vault = vault
        self.config = config or AlertConfig()
        self.clock = clock or (lambda: datetime.now(UTC))  # the time written on alert entries
        self.bus = bus
        self.rules = build_rules(self.config)
        self.on_alert: list[Callable[[AlertRaised], None]] = []  # e.g. open a candidate incident
        self.last_seq = 0  # the last entry evaluated
        self._unrecorded: tuple[int, int, list[Finding]] | None = None  # (after seq, up to seq, findings)

    def evaluate(self, event: StoredEvent) -> list[Finding]:
        """Show one entry to the rules (no recording)."""
        self.last_seq = max(self.last_seq, event.seq)
        return evaluate(self.rules, event)

    def observe(self, event: StoredEvent) -> list[AlertRaised]:
        """Evaluate one entry and record and announce the alerts it raises."""
        findings = self.evaluate(event)
        if not findings:
            return []
        with self.vault.write_transaction() as conn:
            alerts = [self._record(conn, finding) for finding in findings]
        self._announce(alerts)
        return alerts

    def process_new(self, limit: int = 5000) -> list[AlertRaised]:
        """Evaluate the entries after the last one seen; record their alerts and the cursor in one transaction.

        Findings whose recording failed (the vault locked meanwhile) are kept and recorded on the next call:
        the rules have already counted their entries, so those are not shown to them again.
        """
        if self._unrecorded is None:
            start = self.last_seq
            events = tail(self.vault, start, limit)
            if not events:
                return []
            findings = [finding for event in events for finding in self.evaluate(event)]
            self._unrecorded = (start, events[-1].seq, findings)
        start, end, findings = self._unrecorded
        with self.vault.write_transaction() as conn:
            taken = spool.cursor(conn, spool.ALERTS)
            if taken > start:
                # Another engine (another process on this vault) took these entries: its alerts stand.
                alerts: list[AlertRaised] = []
                self.last_seq = max(self.last_seq, taken)
            else:
                alerts = [self._record(conn, finding) for finding in findings]
                spool.advance(conn, spool.ALERTS, end)
        self._unrecorded = None
        self._announce(alerts)
        return alerts

    def starting_point(self) -> int:
        """The last entry that is not news: the cursor where the engine stopped, or, the first time, the end of the
        trail as it is now (history is not alerted on)."""
        with self.vault.read_connection() as conn:
            return spool.cursor(conn, spool.ALERTS) if spool.has_cursor(conn, spool.ALERTS) else spool.last_seq(conn)

    def resume(self, start: int | None = None) -> None:
        """Take up after ``start`` (default: :meth:`starting_point`, read now): learn each token's addresses and
        replay the entries before it silently to refill the windows."""
        if start is None:
            start = self.starting_point()
        with self.vault.read_connection() as conn:
            warm_from = max(0, start - WARM_UP)
            self._learn_sources(conn, warm_from)
            warm = spool.events_after(conn, warm_from, start - warm_from) if start > warm_from else []
            # A pruned trail (decision 0055) has no entries before its first one held: read from there, the count
            # asked for would reach past ``start``, and entries still to be evaluated would be replayed as history.
            warm = [event for event in warm if event.seq <= start]
            raised = self._raised_after(conn, warm_from)
        for event in warm:
            self._replay(event, raised)
        self.last_seq = start

    def _replay(self, event: StoredEvent, raised: set[tuple[str, int]]) -> None:
        """Show a past entry to the rules; a finding whose alert is not on the trail (history before the first
        start, or another configuration) leaves no quiet period behind: an operator's `init` out of hours kept
        every after-hours alert of that operator quiet for an hour, on every later start too."""
        saved = {rule.name: rule.cooldowns() for rule in self.rules}
        for finding in self.evaluate(event):
            if (finding.rule, finding.trigger_seq) not in raised:
                for rule in self.rules:
                    if rule.name == finding.rule:
                        rule.restore_cooldowns(saved[rule.name])

    @staticmethod
    def _raised_after(conn: Connection, seq: int) -> set[tuple[str, int]]:
        """(rule, trigger seq) of every alert on the trail after ``seq``."""
        statement = select(
            func.json_extract(_A.c.details, "$.rule"), func.json_extract(_A.c.details, "$.trigger_seq")
        ).where(_A.c.kind == KIND, _A.c.seq > seq)
        return {(str(rule), int(trigger)) for rule, trigger in conn.execute(statement) if trigger is not None}

    skip_history = resume  # the earlier name

    def _learn_sources(self, conn: Connection, upto: int) -> None:
        rule = next((r for r in self.rules if isinstance(r, NewTokenSource)), None)
        if rule is None or upto <= 0:
            return
        statement = (
            select(_A.c.actor, func.json_extract(_A.c.details, "$.token"), func.json_extract(_A.c.details, "$.source"))
            .where(_A.c.kind == "scim.request", _A.c.seq <= upto)
            .distinct()
        )
        for actor, token, source in conn.execute(statement):
            if not (isinstance(token, str) and token):
                token = actor.removeprefix("token:") if actor.startswith("token:") else ""
            if token and isinstance(source, str) and source not in ("", "unknown"):
                rule.learn(token, source)

    def _record(self, conn: Connection, finding: Finding) -> AlertRaised:
        stored = append(conn, Event(KIND, ACTOR, "success", details=alert_details(finding), at=self.clock()))
        return AlertRaised(stored.seq, finding.rule, finding.observed, finding.summary, finding.threshold,
                           finding.window_minutes, finding.trigger_seq,
                           configuration=finding.rule in CONFIGURATION_RULES)  # fmt: skip

    def _announce(self, alerts: list[AlertRaised]) -> None:
        for alert in alerts:
            for callback in list(self.on_alert):
                try:
                    callback(alert)
                except Exception as exc:  # a failing listener must not stop the others or the engine
                    log.error("alert listener failed: %s", type(exc).__name__)
            if self.bus is not None:
                self.bus.publish(alert)


class AlertWatcher(BackgroundService):
    """Runs the engine every ``interval`` seconds in a thread (in the app and in serve)."""

    def __init__(self, engine: AlertEngine, interval: float = 2.0) -> None:
        super().__init__("alerts")
        self.engine = engine
        self.interval = interval
        self._start: int | None = None  # where this run's news begins (None: read on the thread)

    def _before_thread(self) -> None:
        # Read where the news begins before start() returns, not on the thread: the first time (no cursor yet) an
        # entry committed between the two would count as history, replayed silently, and never alerted on.
        self._start = self.engine.starting_point() if self.engine.vault.is_open else None

    def _run(self) -> None:
        resumed = False
        while not self._stop.wait(self.interval if resumed else 0):
            if not self.engine.vault.is_open:
                continue
            try:
                if not resumed:
                    self.engine.resume(self._start)
                    resumed = True
                self.engine.process_new()
                while not self._stop.is_set() and self._more_pending():  # catching up after a long pause
                    self.engine.process_new()
            except Exception as exc:  # the next round tries again
                log.error("alert rules failed: %s", type(exc).__name__)
        if resumed and self.engine.vault.is_open:  # the entries written while stopping are judged too
            try:
                self.engine.process_new()
            except Exception as exc:  # judged at the next start, from the cursor
                log.error("alert rules failed at stop: %s", type(exc).__name__)

    def _more_pending(self) -> bool:
        return bool(tail(self.engine.vault, self.engine.last_seq, 1))
