"""Which purposes apply to one data subject, and so how long that subject's deactivated account is kept.

Retention follows each purpose (Art. 5(1)(e)): a subject processed only for a purpose with a short period is not
kept for the longest period of some other purpose. The account is kept for the longest period among the purposes
*that apply to this subject*.

A purpose may have a ``scope`` (all users, named groups, a SCIM filter); ``purposes_in_scope`` is the scope used
by default: the purposes whose scope covers the subject (a purpose without one covers everyone). A
``SubjectScope`` is any function with this signature, passed to the retention job (``app.policy.retention``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection

from app.policy.durations import Period
from app.policy.model import Policy, Purpose

# (connection, policy, the subject's SCIM id, its stored SCIM document) -> the purposes that apply to it.
SubjectScope = Callable[[Connection, Policy, str, dict[str, Any]], tuple[Purpose, ...]]


def all_purposes(conn: Connection, policy: Policy, subject_id: str, document: dict[str, Any]) -> tuple[Purpose, ...]:
    """Every purpose applies to every subject, whatever its scope (kept for comparisons and tests)."""
    return policy.purposes


class PurposesInScope:
    """The purposes whose scope selects the subject (a purpose without a scope concerns everyone).

    Called per subject it asks one query per scoped purpose; ``prepare`` answers for a whole batch of subjects
    with one query per scoped purpose, which the retention job uses (benchmarks/bench_retention.py)."""

    def __call__(
        self, conn: Connection, policy: Policy, subject_id: str, document: dict[str, Any]
    ) -> tuple[Purpose, ...]:
        if all(purpose.scope.everyone for purpose in policy.purposes):
            return policy.purposes  # no query when nothing is scoped
        from app.policy.recipient_scope import covers  # targets build on the policy package: imported where needed

        return tuple(p for p in policy.purposes if covers(conn, p.scope, subject_id))

    def prepare(
        self, conn: Connection, policy: Policy, candidates: ColumnElement[bool]
    ) -> Callable[[str, dict[str, Any]], tuple[Purpose, ...]]:
        scoped = [p for p in policy.purposes if not p.scope.everyone]
        if not scoped:
            return lambda subject_id, document: policy.purposes
        from app.policy.recipient_scope import ids_in_scope

        members = {p.id: ids_in_scope(conn, p.scope, candidates) for p in scoped}
        return lambda subject_id, document: tuple(
            p for p in policy.purposes if p.scope.everyone or subject_id in members[p.id]
        )


purposes_in_scope = PurposesInScope()


def resolver(
    scope: SubjectScope, conn: Connection, policy: Policy, candidates: ColumnElement[bool]
) -> Callable[[str, dict[str, Any]], tuple[Purpose, ...]]:
    """Per-subject purposes for a batch: the scope's own ``prepare`` when it has one, else one call per subject."""
    prepare = getattr(scope, "prepare", None)
    if prepare is not None:
        return prepare(conn, policy, candidates)
    return lambda subject_id, document: scope(conn, policy, subject_id, document)


def account_period(
    conn: Connection,
    policy: Policy,
    subject_id: str,
    document: dict[str, Any],
    scope: SubjectScope | None = None,
) -> Period | None:
    """How long this subject's deactivated account is kept (None: no limit, a purpose declared "indefinite").

    A subject no purpose applies to is kept as long as any purpose would keep it: being in no scope is not a
    reason to delete faster than the policy says, and the scope's owner decides what leaving a scope does.
    """
    purposes = (scope or purposes_in_scope)(conn, policy, subject_id, document) or policy.purposes
    return policy.account_retention(purposes)
