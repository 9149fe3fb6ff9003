"""Erasing a subject from the mirror, inside the caller's write transaction.

Order matters: the caller captures which targets hold the subject (target links) before this runs; this
deletes the row (its index values and memberships go with it: ON DELETE CASCADE, secure_delete on) and every
outbox item naming the subject, clears references to it held by other users (app/erasure/references.py, pushed
to the targets), and queues the subject's groups so that targets drop it from their member lists. The links stay
until each target step is resolved (app/erasure/steps.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Select, delete, func, or_, select

from app.directory import repository as repo
from app.erasure import references
from app.feed import links, outbox
from app.feed.tables import OutboxItem
from app.store.models import AttributeValue, GroupMember, ScimResource

_R = ScimResource.__table__
_AV = AttributeValue.__table__
_GM = GroupMember.__table__
_O = OutboxItem.__table__


@dataclass(frozen=True)
class LocalSubject:
    """A subject to erase as the mirror knows it: its row may already be gone while targets still hold it."""

    resource_id: str
    resource_type: str
    in_mirror: bool
    held_at: dict[int, links.Link]  # target id -> link
    pending_at: frozenset[int]  # targets with outbox items for it: a push may be in flight


def resolve(conn: Connection, resource_id: str) -> LocalSubject | None:
    row = conn.execute(select(_R.c.resource_type).where(_R.c.id == resource_id)).first()
    held = {link.target_id: link for link in links.of_resource(conn, resource_id)}
    if row is None and not held:
        return None
    resource_type = row.resource_type if row is not None else next(iter(held.values())).resource_type
    pending = conn.execute(
        select(_O.c.target_id).where(_O.c.resource_id == resource_id, _O.c.state == "pending").distinct()
    )
    return LocalSubject(resource_id, resource_type, row is not None, held, frozenset(r[0] for r in pending))


@dataclass(frozen=True)
class LocalErasure:
    rows_deleted: int  # the resource row, its index values and memberships
    outbox_items_deleted: int
    groups_requeued: int
    references_cleared: int = 0  # other users whose manager was this subject


def erase(conn: Connection, subject: LocalSubject, related: repo.Related | None = None) -> LocalErasure:
    """Delete the subject from the mirror and the outbox; the groups that held it (and a group's member users) get
    a new version, and go into ``related`` for the caller's change events."""
    rid = subject.resource_id
    rows = 0
    groups: list[str] = []
    if subject.in_mirror:
        number = select(_R.c.rid).where(_R.c.id == rid).scalar_subquery()  # index rows name it by its number
        rows = 1 + _count(conn, select(func.count()).where(_AV.c.rid == number))
        rows += _count(conn, select(func.count()).where(or_(_GM.c.member_id == rid, _GM.c.group_id == rid)))
    removed = conn.execute(delete(_O).where(_O.c.resource_id == rid)).rowcount
    if subject.in_mirror:
        groups = repo.delete_resource(conn, rid, related=related)
    # Even a subject no longer in the mirror may still be named by another user (a manager deleted by the IdP).
    cleared = references.clear(conn, rid)
    outbox.enqueue_groups(conn, groups)
    return LocalErasure(rows, removed, len(groups), cleared)


def _count(conn: Connection, statement: Select[int]) -> int:
    return int(conn.execute(statement).scalar() or 0)
