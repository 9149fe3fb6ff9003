"""Initial sync: a target added after users exist (or whose recipient now receives more attributes or more
people) gets every in-scope subject queued through the outbox, in the transaction that added it or applied the
policy. Progress and "in sync" are computed from what is true: the outbox, and the in-scope Users the target
holds compared with those it should hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.core.errors import ConfigError
from app.feed import outbox
from app.feed.tables import OutboxItem, TargetLink
from app.policy import recipient_scope as scope
from app.policy.model import Policy
from app.store.models import ScimResource
from app.targets.config import TargetConfig, list_targets
from app.targets.mapping import mapping_for

_R = ScimResource.__table__
_L = TargetLink.__table__
_O = OutboxItem.__table__


def queue(conn: Connection, target: TargetConfig, policy: Policy, reason: str, now: datetime | None = None) -> int:
    """Queue an upsert of every in-scope User (then every Group, if the target receives groups) for one target;
    returns how many items. Subjects already held are matched, not duplicated, at push time."""
    moment = now or datetime.now(UTC)
    try:
        mapping = mapping_for(policy, target.recipient_id, target.renames)
    except ConfigError:
        return 0  # the recipient is not in the policy: the Targets page says "not provisioned"
    users = scope.user_ids(conn, policy, mapping.recipient) if mapping.sends("User") else []
    groups: list[str] = []
    if mapping.sends("Group"):
        statement = select(_R.c.id).where(_R.c.resource_type == "Group").order_by(_R.c.id)
        groups = [row[0] for row in conn.execute(statement)]
    held_users = select(_L.c.resource_id).where(_L.c.target_id == target.id, _L.c.resource_type == "User")
    # A push still pending may be in flight right now, computed under the old policy: the target may hold its
    # subject before the link is recorded. Pushed again after it, such a subject is taken back too; queued only for
    # the links, it stayed at the target for good (a narrowed scope applied while its create was on the way).
    pending_users = select(_O.c.resource_id).where(
        _O.c.target_id == target.id, _O.c.resource_type == "User", _O.c.state == "pending"
    )
    # A User held (or maybe about to be) but no longer in scope is pushed too: the push deprovisions it (the target's
    # erase mode), or skips it if it never arrived. The trail counts only those known to be held.
    current = set(users)
    leaving = {row[0] for row in conn.execute(held_users)} - current
    maybe = {row[0] for row in conn.execute(pending_users)} - current - leaving
    count = outbox.enqueue_many(conn, target.id, "User", [*users, *sorted(leaving | maybe)], "upsert", moment)
    count += outbox.enqueue_many(conn, target.id, "Group", groups, "upsert", moment)
    details = {"target": target.name, "reason": reason, "users": len(users), "groups": len(groups)}
    if leaving:
        details["leaving_scope"] = len(leaving)
    append(conn, Event("target.sync.queued", current_actor.get(), details=details, at=moment))
    return count


@dataclass(frozen=True)
class SyncProgress:
    in_scope: int  # Users the target should hold
    held: int  # of those, how many it holds
    pending: int  # outbox items waiting
    failed: int  # outbox items given up

    @property
    def missing(self) -> int:
        return self.in_scope - self.held

    @property
    def in_sync(self) -> bool:
        return self.pending == 0 and self.failed == 0 and self.missing == 0

    def word(self) -> str:
        """One word for tables: in-sync, syncing:H/N, incomplete:H/N (nothing queued yet some missing), failed."""
        if self.failed:
            return "failed"
        if self.pending:
            return f"syncing:{self.held}/{self.in_scope}"
        if self.missing:
            return f"incomplete:{self.held}/{self.in_scope}"
        return "in-sync"


def progress(
    conn: Connection, target: TargetConfig, policy: Policy, queue_stats: outbox.QueueStats | None = None
) -> SyncProgress | None:
    """None when the target's recipient is not in the policy (nothing is provisioned). ``queue_stats``: the counts
    the caller already read, so that a state and its sentence never come from two reads of a changing outbox."""
    recipient = scope.recipient(policy, target.recipient_id)
    if recipient is None:
        return None
    queue_stats = queue_stats or outbox.stats(conn, target.id)
    if not recipient.attributes:
        return SyncProgress(0, 0, queue_stats.pending, queue_stats.failed)
    scoped = scope.condition(policy, recipient)
    users = select(ScimResource.id).where(ScimResource.resource_type == "User")
    if scoped is not None:
        users = users.where(scoped)
    in_scope = int(conn.execute(select(func.count()).select_from(users.subquery())).scalar_one())
    held = int(
        conn.execute(select(func.count()).where(_L.c.target_id == target.id, _L.c.resource_id.in_(users))).scalar_one()
    )
    return SyncProgress(in_scope, held, queue_stats.pending, queue_stats.failed)


def membership_changed(conn: Connection, policy: Policy, member_ids: list[str], now: datetime | None = None) -> int:
    """Members who joined or left a group may have entered or left a scoped recipient's scope: push them to
    each target whose recipient is scoped (the push creates, updates or deprovisions). Returns items queued."""
    if not member_ids:
        return 0
    users = [
        row[0] for row in conn.execute(select(_R.c.id).where(_R.c.id.in_(member_ids), _R.c.resource_type == "User"))
    ]
    queued = 0
    for target in list_targets(conn, enabled_only=True):
        recipient = scope.recipient(policy, target.recipient_id)
        if users and recipient is not None and not scope.everyone(policy, recipient):
            queued += outbox.enqueue_many(conn, target.id, "User", users, "upsert", now)
    return queued


def _received(policy: Policy | None, recipient_id: str) -> tuple[object, ...] | None:
    """What a recipient receives and whom it concerns (its scope and its purposes' scopes)."""
    recipient = next((r for r in policy.recipients if r.id == recipient_id), None) if policy else None
    if recipient is None or policy is None:
        return None
    purposes = tuple(p.scope for p in (policy.purpose(pid) for pid in recipient.purposes) if p is not None)
    return (frozenset(recipient.attributes), frozenset(recipient.group_attributes), recipient.scope, purposes)


def resend_changed(conn: Connection, old: Policy | None, new: Policy, now: datetime) -> dict[str, int]:
    """A target whose recipient now receives other attributes, or other people, is synced again: every subject
    in its scope is pushed (a PUT of the new mapping also removes what it may no longer hold; a subject new to
    the scope is created), and every subject it holds outside the scope is deprovisioned (:func:`queue`)."""
    resent: dict[str, int] = {}
    for target in list_targets(conn):
        if _received(old, target.recipient_id) == _received(new, target.recipient_id):
            continue
        resent[target.name] = queue(conn, target, new, "policy applied", now)
    return resent


def resend_notes(conn: Connection, old: Policy | None, new: Policy) -> list[str]:
    """What applying ``new`` does at the targets, for the impact an operator confirms: the impact spoke of the
    mirror only, and said "no stored data is affected" while every account of a target losing an attribute was
    about to be pushed again without it, or while a target's recipient left the policy with its accounts there."""
    notes: list[str] = []
    for target in list_targets(conn):
        before, after = _received(old, target.recipient_id), _received(new, target.recipient_id)
        if before == after:
            continue
        held = int(conn.execute(select(func.count()).where(_L.c.target_id == target.id)).scalar_one())
        if after is None:
            notes.append(
                f"Target {target.name}: its recipient is no longer listed, so nothing more is sent to it; "
                f"the {held:,} account(s) it holds stay there (nothing is deleted at the target)."
            )
        else:
            notes.append(
                f"Target {target.name} receives other attributes or other people: everyone in its scope "
                "is pushed to it again, and what it no longer receives is removed there."
            )
    return notes
