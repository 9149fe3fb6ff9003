"""Whom a recipient concerns: its own scope, and the scopes of the purposes it serves, as one SQL condition.

A User is in a recipient's scope when it is in the recipient's ``scope`` and in the scope of at least one of
the recipient's purposes (a purpose without a scope concerns everyone). Provisioning (app/targets/push.py),
the initial sync (app/targets/sync.py), erasure steps, the Art. 30 counts and the subject export all ask here,
so they cannot disagree. Filters run through the same filter→SQL code as the SCIM endpoint.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true

from app.policy.model import Policy, Recipient, Scope
from app.store.models import GroupMember, ScimResource

_R = ScimResource.__table__
_GM = GroupMember.__table__


def scope_condition(scope: Scope) -> ColumnElement[bool] | None:
    """One scope (of a purpose or a recipient) over ``scim_resources`` Users; None when it selects everyone."""
    if scope.everyone:
        return None
    parts: list[ColumnElement[bool]] = []
    if scope.groups:
        group = _R.alias("scope_group")
        names = [name.lower() for name in scope.groups]
        members = (
            select(_GM.c.member_id)
            .join(group, group.c.id == _GM.c.group_id)
            .where(group.c.resource_type == "Group", group.c.display_name_ci.in_(names))
        )
        parts.append(ScimResource.id.in_(members))
    if scope.filter:
        from app.directory.filter_sql import compile_filter  # the SCIM filter parser (scim2-models): only for a filter

        parts.append(compile_filter("User", scope.filter))
    return and_(*parts)


def covers(conn: Connection, scope: Scope, resource_id: str) -> bool:
    """Whether one scope (of a purpose or a recipient) covers this User."""
    scoped = scope_condition(scope)
    if scoped is None:
        return True
    statement = select(ScimResource.id).where(ScimResource.id == resource_id, ScimResource.resource_type == "User")
    return conn.execute(statement.where(scoped)).first() is not None


def condition(policy: Policy, recipient: Recipient) -> ColumnElement[bool] | None:
    """The recipient's scope over ``scim_resources`` (Users); None when it concerns every user."""
    own = scope_condition(recipient.scope)
    purposes = [policy.purpose(pid) for pid in recipient.purposes]
    scopes = [p.scope for p in purposes if p is not None]
    by_purpose: ColumnElement[bool] | None = None
    if scopes and not any(scope.everyone for scope in scopes):
        by_purpose = or_(*[c for c in (scope_condition(scope) for scope in scopes) if c is not None])
    parts = [c for c in (own, by_purpose) if c is not None]
    return and_(*parts) if parts else None


def ids_in_scope(conn: Connection, scope: Scope, within: ColumnElement[bool]) -> set[str]:
    """The Users matching ``within`` that ``scope`` selects, in one query (a batch of ``covers``)."""
    parts = [ScimResource.resource_type == "User", within]
    condition_ = scope_condition(scope)
    if condition_ is not None:
        parts.append(condition_)
    return {row[0] for row in conn.execute(select(ScimResource.id).where(*parts))}


def everyone(policy: Policy, recipient: Recipient) -> bool:
    return condition(policy, recipient) is None


def _users(policy: Policy, recipient: Recipient) -> ColumnElement[bool]:
    """The Users the recipient concerns, as a WHERE clause."""
    scoped = condition(policy, recipient)
    return and_(ScimResource.resource_type == "User", scoped if scoped is not None else true())


def in_scope(conn: Connection, policy: Policy, recipient: Recipient, resource_id: str) -> bool:
    if everyone(policy, recipient):
        return True
    statement = select(ScimResource.id).where(ScimResource.id == resource_id, _users(policy, recipient))
    return conn.execute(statement).first() is not None


def user_ids(conn: Connection, policy: Policy, recipient: Recipient) -> list[str]:
    """Every User in the recipient's scope, in id order."""
    statement = select(ScimResource.id).where(_users(policy, recipient)).order_by(ScimResource.id)
    return [row[0] for row in conn.execute(statement)]


def count(conn: Connection, policy: Policy, recipient: Recipient) -> int:
    statement = select(func.count()).select_from(_R).where(_users(policy, recipient))
    return int(conn.execute(statement).scalar_one())


def recipient(policy: Policy, recipient_id: str) -> Recipient | None:
    return next((r for r in policy.recipients if r.id == recipient_id), None)


def receives_users(recipient: Recipient) -> bool:
    return bool(recipient.attributes)
