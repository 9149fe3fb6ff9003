"""Which purposes apply to one data subject, and so how long that subject's deactivated account is kept.

Retention follows each purpose (Art. 5(1)(e)): a subject processed only for a purpose with a short period is not
kept for the longest period of some other purpose. The account is kept for the longest period among the purposes
*that apply to this subject*.

A purpose concerns the subjects its ``scope`` selects (all users, members of named groups, a SCIM filter;
``[[purposes]] scope`` in the policy). ``purposes_in_scope`` asks the same SQL the provisioning, erasure and
records use (app/targets/scope.py); it is the retention job's default. A ``SubjectScope`` is any function with
this signature, so a test or a later rule can pass another; ``all_purposes`` ignores scopes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from app.policy.durations import Period
from app.policy.model import Policy, Purpose

# (connection, policy, the subject's SCIM id, its stored SCIM document) -> the purposes that apply to it.
SubjectScope = Callable[[Connection, Policy, str, dict[str, Any]], tuple[Purpose, ...]]


def all_purposes(conn: Connection, policy: Policy, subject_id: str, document: dict[str, Any]) -> tuple[Purpose, ...]:
    """Every purpose applies to every subject, whatever the scopes say."""
    return policy.purposes


def purposes_in_scope(
    conn: Connection, policy: Policy, subject_id: str, document: dict[str, Any]
) -> tuple[Purpose, ...]:
    """The purposes whose scope selects this subject (a purpose without a scope concerns everyone)."""
    if all(purpose.scope.everyone for purpose in policy.purposes):
        return policy.purposes  # no query when nothing is scoped
    from app.targets.scope import scope_holds  # targets build on the policy package: imported where needed

    return tuple(p for p in policy.purposes if scope_holds(conn, p.scope, subject_id))


def account_period(
    conn: Connection,
    policy: Policy,
    subject_id: str,
    document: dict[str, Any],
    scope: SubjectScope = purposes_in_scope,
) -> Period | None:
    """How long this subject's deactivated account is kept (None: no limit, a purpose declared "indefinite").

    A subject no purpose applies to is kept as long as any purpose would keep it: being in no scope is not a
    reason to delete faster than the policy says, and the scope's owner decides what leaving a scope does.
    """
    purposes = scope(conn, policy, subject_id, document) or policy.purposes
    return policy.account_retention(purposes)
