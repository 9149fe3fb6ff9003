"""Background jobs that run beside the SCIM server, in the app and in ``serve`` alike (Qt-free)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from app import trail_retention
from app.audit.anchor import CheckpointScheduler
from app.core.errors import ConfigError, CustosError
from app.core.events import AlertRaised, EventBus, OutboxQueued
from app.core.periodic import PeriodicJob
from app.dsr.alerts import DeadlineAlertJob
from app.dsr.restriction import is_restricted
from app.dsr.retention import purge_expired
from app.erasure import retention
from app.erasure.worker import ErasureWorker
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.policy.retention import Purge
from app.setup.certificate_expiry import CertificateExpiryJob
from app.setup.token_expiry import TokenExpiryJob
from app.siem.alerts import AlertConfig, AlertEngine, AlertWatcher, load_alert_config
from app.siem.forwarder import SiemForwarder
from app.siem.syslog import Collector
from app.store import engine as store_engine
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher
from app.targets.verify_job import VerificationJob

log = logging.getLogger(__name__)

RETENTION_INTERVAL_SECONDS = 3600.0


def run_retention(vault: Vault, policy: PolicyInForce, now: datetime | None = None) -> list[Purge]:
    """Everything retention does in one run: the directory (app/erasure/retention.py), then the request
    register's own retention (three years by default, app/dsr/retention.py); purged values must not linger in
    the WAL either. Then the audit trail's own period, when the policy sets one (app/trail_retention.py)."""
    moment = now or datetime.now(UTC)
    purges = retention.run_once(vault, policy, moment)
    if purge_expired(vault, moment) or purges:
        store_engine.checkpoint(vault.engine)
    prune_trail(vault, policy, moment)
    return purges


def prune_trail(vault: Vault, policy: PolicyInForce, now: datetime) -> None:
    """The audit trail's own period ([own_processing] audit_trail), after the directory's, at most daily
    (``JOB_EVERY``): never fails the run (the trail is kept, and the next run tries again)."""
    try:
        done = trail_retention.run(vault, policy, now, every=trail_retention.JOB_EVERY)
    except Exception as exc:
        reason = exc if isinstance(exc, CustosError) else type(exc).__name__  # never a value from the trail
        log.error("audit trail not pruned: %s", reason)
        return
    if done is not None and done.refused:
        log.warning("audit trail not pruned: %s", done.refused)


class RetentionScheduler(PeriodicJob):
    """Runs retention shortly after start and then every ``interval`` seconds, in its own thread."""

    def __init__(
        self,
        vault: Vault,
        policy: PolicyInForce,
        interval: float = RETENTION_INTERVAL_SECONDS,
        first_delay: float = 5.0,
    ) -> None:
        def run() -> None:
            purges = run_retention(vault, policy)
            if purges:
                log.info("retention job purged %d group(s) of expired data", len(purges))

        super().__init__("retention", run, interval, first_delay, ready=lambda: vault.is_open)


def _alert_config(vault: Vault) -> AlertConfig:
    """A broken siem.toml must not stop provisioning and erasure: say so, and alert with the defaults."""
    try:
        return load_alert_config(vault.path.parent)
    except ConfigError as exc:
        log.warning("alert settings ignored, defaults in force: %s", exc.user_message)
        return AlertConfig()


class BackgroundJobs:
    """The jobs of one unlocked vault: retention, provisioning and erasure at the targets, anomaly alerts (each
    opening a candidate incident), and — when a collector is configured — forwarding the trail to a SIEM."""

    def __init__(
        self,
        vault: Vault,
        policy: PolicyInForce,
        bus: EventBus | None = None,
        retention_interval: float | None = None,
        siem: Collector | None = None,
        certificate: Callable[[], Path | None] = lambda: None,
    ) -> None:
        """``certificate``: the TLS certificate the endpoint serves now, watched for its expiry (decision 0058)."""
        kwargs = {} if retention_interval is None else {"interval": retention_interval}
        self.bus = bus or vault.events
        self.retention = RetentionScheduler(vault, policy, **kwargs)
        self.dispatcher = Dispatcher(vault, policy, restricted=is_restricted)
        self.erasure = ErasureWorker(vault)
        self.alerts = AlertWatcher(AlertEngine(vault, _alert_config(vault)))
        self.alerts.engine.on_alert.append(self._on_alert)
        self.incidents = IncidentRegister(vault)
        self.forwarder = SiemForwarder(vault, siem) if siem is not None else None
        self.checkpoints = CheckpointScheduler(vault)
        self.request_deadlines = DeadlineAlertJob(vault)  # Art. 12(3): 7 days, 1 day, passed
        self.token_expiry = TokenExpiryJob(vault)  # 14 days, 1 day, expired (decision 0057)
        self.certificate_expiry = CertificateExpiryJob(vault, certificate)  # 30 days, 7, expired (decision 0058)
        self.verification = VerificationJob(vault, policy)  # each target checked at the target daily (decision 0036)
        self._unsubscribe = self.bus.subscribe(self._on_event)
        # Outbox items committed by this process (any writer: SCIM, a policy apply, an erasure, a reconcile) wake the
        # dispatcher; a write that queued nothing (no target) does not (decision 0031).
        self._unwatch = vault.changes.subscribe(self._on_change)

    def _on_change(self, tables: frozenset[str]) -> None:
        """Committed by this process's writer: wake who has work now (decision 0031)."""
        if "outbox" in tables:
            self.dispatcher.wake()
        if "erasure_steps" in tables:
            self.erasure.wake()  # an erasure request queued (or a person re-queued) steps for the targets

    def _on_event(self, event: object) -> None:
        if isinstance(event, OutboxQueued):
            self.dispatcher.wake()  # said explicitly by whoever queued it; the change watch says it too

    def _on_alert(self, alert: AlertRaised) -> None:
        # A candidate incident, never an "aware" time: whether this is a breach is a person's decision. A
        # configuration alert (schema refusals: nothing was stored) is not a breach candidate at all.
        if not alert.configuration:
            self.incidents.open_candidate_from_alert(alert.seq, alert.rule, alert.summary)
        self.bus.publish(alert)  # the app shows a notification and a badge

    def start(self) -> None:
        self.retention.start()
        self.dispatcher.start()
        self.erasure.start()
        self.alerts.start()
        self.checkpoints.start()
        self.request_deadlines.start()
        self.token_expiry.start()
        self.certificate_expiry.start()
        self.verification.start()
        if self.forwarder is not None:
            self.forwarder.start()

    def stop(self) -> None:
        self._unsubscribe()
        self._unwatch()
        self.verification.stop()
        self.certificate_expiry.stop()
        self.token_expiry.stop()
        self.request_deadlines.stop()
        self.checkpoints.stop()
        self.erasure.stop()
        self.dispatcher.stop()
        self.retention.stop()
        self.alerts.stop()  # after every job that writes to the trail: its last pass judges their entries
        self.checkpoints.sign_now()  # over everything written, before the forwarder's last round sends it
        if self.forwarder is not None:
            self.forwarder.stop()  # last: its last round sends everything, the alerts included
