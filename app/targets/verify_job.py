"""The periodic check of every target against the target itself: a reconcile without repair, once a day each.

"In sync" is said only after such a check (decision 0036); without one, every target says "not verified" for good
unless an operator reconciles by hand. A target is checked only when Custos's own bookkeeping is clean (nothing
queued, failed or missing): a check while pushes are on their way would report their subjects as drift. A repair is
never queued here: what differs, and accounts Custos does not know, are the operator's to decide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.core.actor import current_actor
from app.core.periodic import PeriodicJob
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.status import TargetHealth, health
from app.targets.verification import DRIFT, IN_SYNC, NOT_VERIFIED

log = logging.getLogger(__name__)

ACTOR = "system:verify"
MAX_AGE = timedelta(days=1)
TICK_SECONDS = 3600.0  # how often it looks for a target due; each is checked at most once per MAX_AGE
CHECKABLE = (IN_SYNC, NOT_VERIFIED, DRIFT)  # bookkeeping clean: what the target holds is what it should be


def due(vault: Vault, policy: PolicyInForce, now: datetime, max_age: timedelta = MAX_AGE) -> list[str]:
    """The targets to check now: bookkeeping clean, and never checked or last checked more than ``max_age`` ago."""
    with vault.read_connection() as conn:
        targets = health(conn, policy.get().policy)
    return [
        t.config.name
        for t in targets
        if _clean(t) and (t.verification.last is None or t.verification.last.started <= now - max_age)
    ]


def _clean(target: TargetHealth) -> bool:
    """Nothing queued, failed or missing. "drift" outranks a queue in the state, so the state alone cannot say."""
    missing = target.sync.missing if target.sync is not None else 0
    return target.state in CHECKABLE and target.pending == 0 and missing == 0


def verify_due(vault: Vault, policy: PolicyInForce, now: datetime, max_age: timedelta = MAX_AGE) -> list[str]:
    """Reconcile (no repair) each target due; returns the ones checked. An unreachable one is logged by the type
    of its error (never its message: a target's answer may quote data) and tried again at the next tick."""
    from app.targets.reconcile import reconcile  # the HTTP client: only when a check runs

    checked = []
    token = current_actor.set(ACTOR)
    try:
        for name in due(vault, policy, now, max_age):
            try:
                reconcile(vault, policy, name)
                checked.append(name)
            except Exception as exc:  # one target down must not stop the others' checks
                log.warning("verification of a target failed: %s", type(exc).__name__)
    finally:
        current_actor.reset(token)
    return checked


class VerificationJob(PeriodicJob):
    """Looks hourly for targets due a check (first a few minutes after the vault opens)."""

    def __init__(
        self,
        vault: Vault,
        policy: PolicyInForce,
        interval: float = TICK_SECONDS,
        first_delay: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__("verify-targets", lambda: verify_due(vault, policy, clock()), interval, first_delay,
                         ready=lambda: vault.is_open)  # fmt: skip
