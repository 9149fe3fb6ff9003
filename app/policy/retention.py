"""The retention job: purge what has outlived its retention period, and record evidence without values.

Two clocks, both running from the moment an account was deactivated (``scim_resources.deactivated_at``):
- a data category (or an attribute that overrides it) with a period: its attributes are removed from accounts
  deactivated longer ago than that;
- the deactivated-account retention of the purposes: the whole account is deleted after the longest of them.
Evidence per purge: the kind of data, how many subjects, when, and under which policy version — never values.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from app.audit.trail import Event, append
from app.core.periodic import PeriodicJob
from app.policy.durations import Period
from app.policy.in_force import ActivePolicy, PolicyInForce
from app.policy.minimise import Minimiser
from app.policy.model import AttributeRule, Policy
from app.scim import repository as repo
from app.store import engine as store_engine
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets import outbox

log = logging.getLogger(__name__)
_R = ScimResource.__table__
ACTOR = "system:retention"
DEFAULT_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class Purge:
    kind: str  # "attributes" or "accounts"
    category: str  # category name, or "Deactivated accounts"
    attributes: tuple[str, ...]
    subjects: int
    period: str


def _expired_users(conn: Connection, cutoff: datetime) -> list[repo.StoredResource]:
    rows = conn.execute(
        select(_R.c.id, _R.c.resource_type, _R.c.document, _R.c.version, _R.c.created, _R.c.modified, _R.c.active)
        .where(_R.c.resource_type == "User", _R.c.active.is_(False), _R.c.deactivated_at <= cutoff)
        .order_by(_R.c.id)
    ).all()
    return [repo.stored(row) for row in rows]


def _rules_by_period(policy: Policy) -> dict[tuple[Period, str], list[AttributeRule]]:
    """User attributes with a finite retention, grouped by (period, category name)."""
    grouped: dict[tuple[Period, str], list[AttributeRule]] = defaultdict(list)
    for rule in policy.rules_for("User"):
        period = policy.retention_of(rule).period
        if period is not None:
            category = policy.category(rule.category)
            grouped[(period, category.name if category else rule.category)].append(rule)
    return grouped


def _purge_attributes(conn: Connection, policy: Policy, now: datetime) -> list[Purge]:
    purges = []
    for (period, category), rules in sorted(_rules_by_period(policy).items(), key=lambda item: item[0][1]):
        expired = set(rules)
        reduced = Minimiser(replace(policy, attributes=tuple(r for r in policy.attributes if r not in expired)))
        subjects = 0
        for row in _expired_users(conn, period.before(now)):
            kept, removed = reduced.strip("User", json.loads(row.document))
            if removed:
                repo.update_resource(conn, row, kept, now)
                outbox.enqueue(conn, "User", row.id, "upsert", now)  # the targets drop it too
                subjects += 1
        if subjects:
            purges.append(Purge("attributes", category, tuple(r.path for r in rules), subjects, period.iso()))
    return purges


def _purge_accounts(conn: Connection, policy: Policy, now: datetime) -> list[Purge]:
    period = policy.account_retention()
    if period is None:
        return []
    expired = _expired_users(conn, period.before(now))
    for row in expired:
        repo.delete_resource(conn, row.id)
        outbox.enqueue(conn, "User", row.id, "delete", now)  # and every target deletes the account
    return [Purge("accounts", "Deactivated accounts", (), len(expired), period.iso())] if expired else []


def _evidence(conn: Connection, purge: Purge, version: int, moment: datetime, **extra: str) -> None:
    details = {
        "kind": purge.kind,
        "category": purge.category,
        "attributes": list(purge.attributes),
        "subjects": purge.subjects,
        "period": purge.period,
        "policy_version": version,
        **extra,
    }
    append(conn, Event("retention.purged", ACTOR, details=details, at=moment))


def expired_accounts(conn: Connection, policy: Policy, now: datetime) -> tuple[list[str], Period | None]:
    period = policy.account_retention()
    if period is None or not policy.retention_job_enabled:
        return [], period
    return [row.id for row in _expired_users(conn, period.before(now))], period


def run_retention(
    conn: Connection, active: ActivePolicy, now: datetime | None = None, accounts: bool = True
) -> list[Purge]:
    """Purge what has expired under ``active``, in the caller's transaction, with one evidence event per purge.

    ``accounts`` False leaves expired accounts to the caller (run_once erases them as Art. 17 requests).
    """
    moment = now or datetime.now(UTC)
    policy = active.policy
    if not policy.retention_job_enabled:
        return []
    purges = _purge_attributes(conn, policy, moment) + (_purge_accounts(conn, policy, moment) if accounts else [])
    for purge in purges:
        _evidence(conn, purge, active.version, moment)
    append(
        conn,
        Event(
            "retention.run",
            ACTOR,
            details={
                "policy_version": active.version,
                "purges": len(purges),
                "subjects": sum(p.subjects for p in purges),
            },
            at=moment,
        ),
    )
    return purges


def run_once(vault: Vault, policy: PolicyInForce, now: datetime | None = None) -> list[Purge]:
    """One retention run. Expired accounts become an erasure request (ground "retention"): erased here at once
    and at every target with verification and a signed receipt, exactly like an erasure an operator asks for."""
    from app.erasure.requests import request_erasure  # the erasure package builds on the policy one

    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        active = policy.for_connection(conn)
        purges = run_retention(conn, active, moment, accounts=False)
        expired, period = expired_accounts(conn, active.policy, moment)
    if expired and period is not None:
        request_id = request_erasure(vault, expired, "retention", ACTOR, origin="retention", now=moment)
        purge = Purge("accounts", "Deactivated accounts", (), len(expired), period.iso())
        with vault.write_transaction() as conn:
            _evidence(conn, purge, active.version, moment, erasure_request=request_id)
        purges.append(purge)
    from app.dsr.retention import purge_expired  # the request register's own retention (3 years by default)

    if purge_expired(vault, moment) or purges:
        store_engine.checkpoint(vault.engine)  # purged values must not linger in the WAL
    return purges


class RetentionScheduler(PeriodicJob):
    """Runs the retention job shortly after start and then every ``interval`` seconds, in its own thread."""

    def __init__(
        self, vault: Vault, policy: PolicyInForce, interval: float = DEFAULT_INTERVAL_SECONDS, first_delay: float = 5.0
    ) -> None:
        def run() -> None:
            purges = run_once(vault, policy)
            if purges:
                log.info("retention job purged %d group(s) of expired data", len(purges))

        super().__init__("retention", run, interval, first_delay, ready=lambda: vault.is_open)
