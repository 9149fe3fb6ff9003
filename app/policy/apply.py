"""Applying a policy version: the impact first, then the version, the purge and the evidence in one transaction.

The impact is computed by running the new version's minimiser over every stored resource, exactly as the purge
will, so the preview and the purge cannot disagree. Only attribute names and counts are reported.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from app.audit.trail import Event, append
from app.core.events import PolicyApplied
from app.directory import repository as repo
from app.feed import outbox
from app.policy import versions
from app.policy.loader import load_policy
from app.policy.minimise import Minimiser
from app.policy.model import AttributeRule, Policy
from app.policy.paths import resolve_path
from app.policy.type_filter import split_typed
from app.store.models import GroupMember, ScimResource
from app.store.vault import Vault

_R = ScimResource.__table__
_BATCH = 1000


# Queues a sync of every target whose recipient now receives other attributes or other people, in the apply's
# transaction, and returns how many items per target (app/targets/sync.py: resend_changed). The targets build on
# the policy, so the caller hands it in; app/targets/policy_change.py is the apply that every caller uses.
Resender = Callable[[Connection, Policy | None, Policy, datetime], dict[str, int]]


@dataclass(frozen=True)
class Impact:
    """What applying a version would change. Attribute names and counts only."""

    new_sha256: str
    current_version: int | None
    unchanged: bool
    removed: dict[str, int] = field(default_factory=dict)  # "User phoneNumbers" -> resources holding it
    resources_affected: int = 0
    resources_deleted: dict[str, int] = field(default_factory=dict)  # resource type no longer held at all
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # catalogue entries removed (held or not)
    notes: list[str] = field(default_factory=list)
    unheld: list[str] = field(default_factory=list)  # of ``dropped``, those no stored resource holds

    def lines(self) -> list[str]:
        if self.unchanged:
            return ["This version is already in force: nothing would change."]
        out = []
        for name, holders in sorted(self.removed.items()):
            resource_type, attribute = name.split(" ", 1)
            noun = "user" if resource_type == "User" else "group"
            plural = "s" if holders != 1 else ""
            verb, them = ("holds", "it") if holders == 1 else ("hold", "them")
            out.append(
                f"{holders:,} stored {noun}{plural} {verb} `{attribute}`, which this version no longer allows: "
                f"it will be removed from {them}."
            )
        for resource_type, count in sorted(self.resources_deleted.items()):
            out.append(f"{count:,} stored {resource_type} resources are no longer held at all: they will be deleted.")
        if self.unheld:
            out.append(f"Removed from the catalogue (no stored data holds them): {', '.join(self.unheld)}.")
        if self.added:
            out.append(f"Added to the catalogue: {', '.join(self.added)}.")
        out.extend(self.notes)
        if not out:
            out.append("The catalogue is unchanged; no stored data is affected.")
        return out


def _entries(policy: Policy | None) -> dict[tuple[str, str], AttributeRule]:
    return {} if policy is None else {(rule.resource_type, rule.key): rule for rule in policy.attributes}


def _name(rule: AttributeRule) -> str:
    """An entry as the impact and the trail name it, with its type filter:
    ``User phoneNumbers[type eq "work"].value``."""
    return f"{rule.resource_type} {rule.label}"


def _type_notes(old: dict[tuple[str, str], AttributeRule], new: dict[tuple[str, str], AttributeRule]) -> list[str]:
    notes = []
    for key in sorted(old.keys() & new.keys()):
        before, after = old[key].types, new[key].types
        if before != after:
            was = ", ".join(before) if before else "every type"
            now = ", ".join(after) if after else "every type, and elements sent with no type"
            notes.append(f"`{new[key].resource_type} {new[key].path}` now holds {now} (was {was}).")
    return notes


def type_changes(old: Policy | None, new: Policy) -> list[dict[str, object]]:
    """Entries kept whose type filter changed, for the trail: a narrowing is as much a change of what is held as
    an entry added or removed (names and types only)."""
    before, after = _entries(old), _entries(new)
    return [
        {"attribute": f"{after[key].resource_type} {after[key].path}", "was": list(before[key].types) or "every type",
         "now": list(after[key].types) or "every type"}
        for key in sorted(before.keys() & after.keys())
        if before[key].types != after[key].types
    ]  # fmt: skip


def _removed_names(minimiser: Minimiser, resource_type: str, paths: list[str]) -> set[str]:
    """What the purge takes out of one resource, as the impact names it. The element's type is named where the
    version filters that attribute by type (only mobile numbers go, the work ones stay); elsewhere the attribute
    goes whatever its type, and the plain name says so."""
    names = set()
    for path in paths:
        base, _kind, qualified = split_typed(path)
        names.add(path if qualified and minimiser.filters_types(resource_type, base) else base)
    return names


def _top(name: str) -> tuple[str, str]:
    """("User", "phonenumbers") for "User phoneNumbers[type eq "mobile"].value": which catalogue entries it is of."""
    resource_type, _, path = name.partition(" ")
    resolved = resolve_path(resource_type, split_typed(path)[0]) if resource_type in ("User", "Group") else None
    return resource_type, (resolved.prefix + resolved.top.name.lower()) if resolved else path.lower()


def _scan(conn: Connection) -> Iterator[repo.StoredResource]:
    last = ""
    while True:
        rows = conn.execute(
            select(_R.c.id, _R.c.resource_type, _R.c.document, _R.c.version, _R.c.created, _R.c.modified, _R.c.active)
            .where(_R.c.id > last)
            .order_by(_R.c.id)
            .limit(_BATCH)
        ).all()
        for row in rows:
            yield repo.stored(row)
        if len(rows) < _BATCH:
            return
        last = rows[-1].id


def _members_held(conn: Connection, minimiser: Minimiser) -> int:
    """Groups whose memberships would go because the new version does not hold ``members``."""
    if minimiser.holds_members():
        return 0
    gm = GroupMember.__table__
    return len(conn.execute(select(gm.c.group_id).distinct()).all())


def _notes(old: Policy | None, new: Policy) -> list[str]:
    notes = []
    if old is not None and old.outside_schema != new.outside_schema:
        notes.append(
            f"Data outside the schema will now be handled by '{new.outside_schema}' (was '{old.outside_schema}')."
        )
    if old is not None:
        before = {c.id: c.retention.period for c in old.categories}
        for category in new.categories:
            if category.id in before and (old_period := before[category.id]) != category.retention.period:
                was = old_period.iso() if old_period else "while the account exists"
                now = category.retention.period.iso() if category.retention.period else "while the account exists"
                notes.append(
                    f"Retention of '{category.name}' changes from {was} to {now}; the next retention run applies it."
                )
        old_recipients = {r.id for r in old.recipients}
        new_recipients = {r.id for r in new.recipients}
        for added in sorted(new_recipients - old_recipients):
            notes.append(f"New recipient: {added}.")
        for removed in sorted(old_recipients - new_recipients):
            notes.append(f"Recipient no longer listed: {removed}.")
        notes.extend(_recipient_changes(old, new))
    if not new.retention_job_enabled:
        notes.append("The retention job is disabled in this version: expired data will not be purged.")
    return notes


def _recipient_changes(old: Policy, new: Policy) -> list[str]:
    """A recipient kept but changed: what its application will receive, or stop receiving. Before, a version that
    only widened a recipient's attributes was previewed as "The catalogue is unchanged; no stored data is affected."
    and applied on that, though every person in its scope was then pushed to that application again."""
    before = {recipient.id: recipient for recipient in old.recipients}
    # Recipients keep canonical keys ("displayname"): named as the catalogue spells them, where it has the entry.
    spelt = {(rule.resource_type, rule.key): rule.path for rule in (*old.attributes, *new.attributes)}
    notes = []
    for recipient in new.recipients:
        was = before.get(recipient.id)
        if was is None or was == recipient:
            continue
        parts = []
        for kind, now, then in (("User", recipient.attributes, was.attributes),
                                ("Group", recipient.group_attributes, was.group_attributes)):  # fmt: skip
            if gained := [spelt.get((kind, key), key) for key in now if key not in then]:
                parts.append(f"now receives {kind} {', '.join(gained)}")
            if lost := [spelt.get((kind, key), key) for key in then if key not in now]:
                parts.append(f"no longer receives {kind} {', '.join(lost)}")
        if recipient.scope != was.scope:
            parts.append("concerns other people (its scope changed)")
        if not parts:
            parts.append("its description changed (what it receives and whom it concerns are as before)")
        notes.append(f"Recipient {recipient.id}: {'; '.join(parts)}.")
    return notes


def _walk(conn: Connection, minimiser: Minimiser, purge: bool, now: datetime) -> tuple[Counter[str], int, Counter[str]]:
    removed: Counter[str] = Counter()
    deleted: Counter[str] = Counter()
    affected = 0
    for row in _scan(conn):
        if not minimiser.holds_anything(row.resource_type):
            deleted[row.resource_type] += 1
            if purge:
                groups = repo.delete_resource(conn, row.id, now)
                outbox.enqueue(conn, row.resource_type, row.id, "delete", now)
                outbox.enqueue_groups(conn, groups, now)  # the groups it was in, without it
            continue
        document = json.loads(row.document)
        result = minimiser.minimise(row.resource_type, document)
        if not result.removed:
            continue
        affected += 1
        for name in _removed_names(minimiser, row.resource_type, result.paths):
            removed[f"{row.resource_type} {name}"] += 1
        if purge:
            repo.update_resource(conn, row, result.kept, now)
            outbox.enqueue(conn, row.resource_type, row.id, "upsert", now)  # targets receive the purged version
    return removed, affected, deleted


def preview(conn: Connection, text: str) -> Impact:
    new = load_policy(text)
    current = versions.in_force(conn)
    digest = versions.sha256_of(text)
    if current is not None and current.sha256 == digest:
        return Impact(digest, current.version, unchanged=True)
    minimiser = Minimiser(new)
    removed, affected, deleted = _walk(conn, minimiser, purge=False, now=datetime.now(UTC))
    members = _members_held(conn, minimiser)
    if members:
        removed["Group members"] = members
    old_policy = current.policy if current else None
    old_entries, new_entries = _entries(old_policy), _entries(new)
    dropped = [old_entries[key] for key in old_entries.keys() - new_entries.keys()]
    held = {_top(name) for name in removed}
    return Impact(
        digest,
        current.version if current else None,
        unchanged=False,
        removed=dict(removed),
        resources_affected=affected,
        resources_deleted=dict(deleted),
        added=sorted(_name(new_entries[key]) for key in new_entries.keys() - old_entries.keys()),
        dropped=sorted(_name(rule) for rule in dropped),
        notes=_notes(old_policy, new) + _type_notes(old_entries, new_entries),
        unheld=sorted(_name(rule) for rule in dropped if (rule.resource_type, rule.top) not in held),
    )


def apply_text(
    conn: Connection, text: str, operator: str, now: datetime | None = None, *, resend: Resender
) -> tuple[versions.PolicyRecord, Impact]:
    """Record the version, purge what it no longer allows, queue what the targets must be sent again
    (``resend``), and put it all on the audit trail — one transaction."""
    moment = now or datetime.now(UTC)
    impact = preview(conn, text)
    if impact.unchanged:
        current = versions.in_force(conn)
        assert current is not None
        return current, impact
    record = versions.insert_version(conn, text, operator, moment)
    minimiser = Minimiser(record.policy)
    removed, affected, deleted = _walk(conn, minimiser, purge=True, now=moment)
    if not minimiser.holds_members():  # every group and its users at a new version: their memberships go
        repo.drop_all_memberships(conn, moment)
    previous = impact_old_policy(conn, record)
    resent = resend(conn, previous, record.policy, moment)
    actor = f"operator:{operator}"
    append(
        conn,
        Event(
            "policy.applied",
            actor,
            details={
                "version": record.version,
                "sha256": record.sha256,
                "previous_version": impact.current_version,
                "added": impact.added,
                "removed": impact.dropped,
                "types_changed": type_changes(previous, record.policy),
                "outside_schema": record.policy.outside_schema,
                "targets_resent": resent,
            },
            at=moment,
        ),
    )
    if affected or deleted or impact.removed.get("Group members"):
        append(
            conn,
            Event(
                "policy.purged",
                actor,
                details={
                    "version": record.version,
                    "attributes": dict(sorted(removed.items())),
                    "resources": affected,
                    "deleted": dict(deleted),
                    "group_memberships_removed": impact.removed.get("Group members", 0),
                },
                at=moment,
            ),
        )
    return record, impact


def impact_old_policy(conn: Connection, record: versions.PolicyRecord) -> Policy | None:
    previous = versions.get(conn, record.version - 1) if record.version > 1 else None
    return previous.policy if previous else None


def apply_policy(
    vault: Vault, text: str, operator: str, now: datetime | None = None, *, resend: Resender
) -> tuple[versions.PolicyRecord, Impact]:
    with vault.write_transaction() as conn:
        record, impact = apply_text(conn, text, operator, now, resend=resend)
    if not impact.unchanged:
        if impact.removed or impact.resources_deleted:
            from app.store import engine as store_engine

            store_engine.checkpoint(vault.engine)  # purged values must not linger in the WAL either
        published(vault, record, impact)
    return record, impact


def published(vault: Vault, record: versions.PolicyRecord, impact: Impact) -> None:
    """After the commit: the jobs push what the apply queued now (not at the next poll), the app refreshes."""
    deleted = sum(impact.resources_deleted.values())
    vault.events.publish(PolicyApplied(record.version, impact.resources_affected, deleted))
