"""The retention job: purge what has outlived its retention period, and record evidence without values.

Two clocks, both running from the moment an account was deactivated (``scim_resources.deactivated_at``):
- a data category (or an attribute that overrides it) with a period: its attributes are removed from accounts
  deactivated longer ago than that;
- the deactivated-account retention of the purposes *that apply to the subject* (``app.policy.scope``): the whole
  account is deleted after the longest of those, so each subject is kept only as long as its own purposes need.
Evidence per purge: the kind of data, how many subjects, when, and under which policy version — never values.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from app.audit.trail import Event, append
from app.directory import repository as repo
from app.feed import outbox
from app.policy.durations import Period
from app.policy.in_force import ActivePolicy
from app.policy.minimise import Minimiser
from app.policy.model import AttributeRule, Policy
from app.policy.scope import SubjectScope, purposes_in_scope, resolver
from app.store.models import ScimResource

log = logging.getLogger(__name__)
_R = ScimResource.__table__
ACTOR = "system:retention"


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


def _held_past_period(
    conn: Connection, policy: Policy, now: datetime
) -> Iterator[tuple[Period, str, list[AttributeRule], repo.StoredResource, dict[str, Any]]]:
    """Each deactivated account still holding attributes of a category whose period has run out: (period,
    category name, its rules, the account, the document without them). Reads only: the purge and the check of
    what is overdue (``overdue``) walk the same accounts."""
    for (period, category), rules in sorted(_rules_by_period(policy).items(), key=lambda item: item[0][1]):
        expired = set(rules)
        reduced = Minimiser(replace(policy, attributes=tuple(r for r in policy.attributes if r not in expired)))
        for row in _expired_users(conn, period.before(now)):
            kept, removed = reduced.strip("User", json.loads(row.document))
            if removed:
                yield period, category, rules, row, kept


def _purge_attributes(conn: Connection, policy: Policy, now: datetime) -> list[Purge]:
    """Each category in turn: its accounts are read after the previous category's updates (an account in two
    categories keeps both removals)."""
    subjects: dict[tuple[Period, str], int] = {}
    paths: dict[tuple[Period, str], tuple[str, ...]] = {}
    for period, category, rules, row, kept in _held_past_period(conn, policy, now):
        repo.update_resource(conn, row, kept, now)
        outbox.enqueue(conn, "User", row.id, "upsert", now)  # the targets drop it too
        subjects[(period, category)] = subjects.get((period, category), 0) + 1
        paths[(period, category)] = tuple(r.path for r in rules)
    return [Purge("attributes", category, paths[(period, category)], count, period.iso())
            for (period, category), count in subjects.items()]  # fmt: skip


@dataclass(frozen=True)
class Overdue:
    """What the vault still holds past its retention period, by more than a grace: evidence that the retention
    job does not enforce the policy, whatever its recent runs say."""

    accounts: int  # deactivated accounts past their subject's account retention
    attribute_holders: int  # deactivated accounts still holding data of a category past its period
    categories: tuple[str, ...] = ()  # the names of those categories
    # (category name, deactivated accounts still holding its data past its period): a category's row names its own
    # count, not every account holding any overdue category.
    holders_by_category: tuple[tuple[str, int], ...] = ()

    def holders_of(self, category: str | None) -> int:
        """Accounts holding data of ``category`` past its period; of any overdue category when ``None``."""
        if category is None:
            return self.attribute_holders
        return dict(self.holders_by_category).get(category, 0)

    def __bool__(self) -> bool:
        return bool(self.accounts or self.attribute_holders)


def overdue(
    conn: Connection, policy: Policy, now: datetime, grace: timedelta, scope: SubjectScope = purposes_in_scope
) -> Overdue:
    """Read-only: what the retention job would have removed by ``now - grace`` and the vault still holds."""
    if not policy.retention_job_enabled:
        return Overdue(0, 0)
    cutoff = now - grace
    accounts = sum(len(ids) for ids in _expired_by_period(conn, policy, cutoff, scope).values())
    holders: set[str] = set()
    by_category: dict[str, set[str]] = {}
    for _, category, _, row, _ in _held_past_period(conn, policy, cutoff):
        holders.add(row.id)
        by_category.setdefault(category, set()).add(row.id)
    counts = tuple((category, len(ids)) for category, ids in by_category.items())
    return Overdue(accounts, len(holders), tuple(by_category), counts)


def _expired_by_period(conn: Connection, policy: Policy, now: datetime, scope: SubjectScope) -> dict[Period, list[str]]:
    """Deactivated accounts past their own subject's retention, grouped by that period (ids in id order).

    One indexed query finds the candidates (deactivated before the latest cutoff of any purpose); each is then
    held to the period of the purposes in scope for that subject.
    """
    periods = {p.deactivated_account_retention.period for p in policy.purposes} - {None}
    if not periods:
        return {}
    latest_cutoff = max(period.before(now) for period in periods if period is not None)
    candidates = and_(_R.c.resource_type == "User", _R.c.active.is_(False), _R.c.deactivated_at <= latest_cutoff)
    rows = conn.execute(select(_R.c.id, _R.c.document, _R.c.deactivated_at).where(candidates).order_by(_R.c.id)).all()
    purposes_of = resolver(scope, conn, policy, candidates)  # one query per scoped purpose, not per subject
    expired: dict[Period, list[str]] = defaultdict(list)
    for row in rows:
        period = policy.account_retention(purposes_of(row.id, json.loads(row.document)) or policy.purposes)
        deactivated = row.deactivated_at if row.deactivated_at.tzinfo else row.deactivated_at.replace(tzinfo=UTC)
        if period is not None and deactivated <= period.before(now):
            expired[period].append(row.id)
    return dict(expired)


def _purge_accounts(conn: Connection, policy: Policy, now: datetime, scope: SubjectScope) -> list[Purge]:
    purges = []
    for period, ids in sorted(_expired_by_period(conn, policy, now, scope).items(), key=lambda i: i[0].iso()):
        for subject_id in ids:
            groups = repo.delete_resource(conn, subject_id, now)
            outbox.enqueue(conn, "User", subject_id, "delete", now)  # and every target deletes the account
            outbox.enqueue_groups(conn, groups, now)  # and the groups it was in, without it
        purges.append(Purge("accounts", "Deactivated accounts", (), len(ids), period.iso()))
    return purges


def evidence(conn: Connection, purge: Purge, version: int, moment: datetime, **extra: str) -> None:
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


def expired_accounts(
    conn: Connection, policy: Policy, now: datetime, scope: SubjectScope = purposes_in_scope
) -> dict[Period, list[str]]:
    """Accounts whose subject's retention has run out, by period (empty when the job is disabled)."""
    if not policy.retention_job_enabled:
        return {}
    return _expired_by_period(conn, policy, now, scope)


def run_retention(
    conn: Connection,
    active: ActivePolicy,
    now: datetime | None = None,
    accounts: bool = True,
    scope: SubjectScope = purposes_in_scope,
) -> list[Purge]:
    """Purge what has expired under ``active``, in the caller's transaction, with one evidence event per purge.

    ``accounts`` False leaves expired accounts to the caller (run_once erases them as Art. 17 requests).
    """
    moment = now or datetime.now(UTC)
    policy = active.policy
    if not policy.retention_job_enabled:
        return []
    purges = _purge_attributes(conn, policy, moment)
    if accounts:
        purges += _purge_accounts(conn, policy, moment, scope)
    for purge in purges:
        evidence(conn, purge, active.version, moment)
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
