"""Qt-free work for the erasure dialog (run in workers): what would be erased where, and the request's progress."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, select

from app.erasure.status import RequestStatus, request_status
from app.erasure.steps import RECIPIENT_MODE, recipient_step_name
from app.policy.versions import in_force
from app.scim import repository as repo
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets import links, scope
from app.targets.config import list_targets


@dataclass(frozen=True)
class Preview:
    subjects: int
    found: int  # of those, still in the mirror
    per_target: dict[str, int]  # target name -> how many of the subjects it holds
    modes: dict[str, str]  # target name -> erase mode (delete | deactivate | manual)
    people: tuple[tuple[str, str], ...] = ()  # (display name, userName) of each subject found, for the operator


def people(conn: Connection, subject_ids: list[str]) -> tuple[tuple[str, str], ...]:
    """Whom the operator is about to erase, by name on screen only (never logged, never on the trail)."""
    table = ScimResource.__table__
    rows = conn.execute(
        select(table.c.display_name, table.c.user_name).where(table.c.id.in_(subject_ids)).order_by(table.c.user_name)
    ).all()
    return tuple((row[0] or "", row[1] or "") for row in rows)


def preview(vault: Vault, subject_ids: list[str]) -> Preview:
    with vault.read_connection() as conn:
        targets = list_targets(conn)
        names = {t.id: t.name for t in targets}
        modes = {t.name: t.erase_mode for t in targets}
        counts: Counter[str] = Counter()
        found = len(repo.existing_types(conn, subject_ids))
        for resource_id in subject_ids:
            held = links.of_resource(conn, resource_id)
            counts.update(names[link.target_id] for link in held if link.target_id in names)
        # Recipients with no SCIM target (Art. 19): told by a person, for the subjects in their scope.
        record = in_force(conn)
        with_target = {t.recipient_id for t in targets}
        policy = record.policy if record else None
        for recipient in policy.recipients if policy else ():
            if recipient.id in with_target or not scope.receives_users(recipient):
                continue
            name = recipient_step_name(recipient.id)
            modes[name] = RECIPIENT_MODE
            counts[name] = len([rid for rid in subject_ids if policy and scope.in_scope(conn, policy, recipient, rid)])
        named = people(conn, subject_ids)
    return Preview(len(subject_ids), found, {name: counts.get(name, 0) for name in sorted(modes)}, modes, named)


def progress(vault: Vault, request_id: str) -> RequestStatus:
    with vault.read_connection() as conn:
        return request_status(conn, request_id)
