"""Which subjects each target holds, and under which id there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select, update

from app.feed.tables import TargetLink
from app.store.models import GroupMember

_L = TargetLink.__table__
_GM = GroupMember.__table__


@dataclass(frozen=True)
class Link:
    target_id: int
    resource_id: str
    resource_type: str
    remote_id: str
    synced_version: int
    synced_at: datetime


def get(conn: Connection, target_id: int, resource_id: str) -> Link | None:
    row = conn.execute(select(_L).where(_L.c.target_id == target_id, _L.c.resource_id == resource_id)).first()
    return None if row is None else Link(*row)


def of_resource(conn: Connection, resource_id: str) -> list[Link]:
    return [Link(*row) for row in conn.execute(select(_L).where(_L.c.resource_id == resource_id))]


def of_target(conn: Connection, target_id: int) -> list[Link]:
    return [Link(*row) for row in conn.execute(select(_L).where(_L.c.target_id == target_id))]


def holder(conn: Connection, target_id: int, remote_id: str) -> str | None:
    """Which subject is linked to the account ``remote_id`` at the target, if any. No index leads there: it reads
    the target's links (a tenth of a second at 100,000), so callers ask only to confirm what :func:`owners` said."""
    statement = select(_L.c.resource_id).where(_L.c.target_id == target_id, _L.c.remote_id == remote_id).limit(1)
    return conn.execute(statement).scalar()


def owners(conn: Connection, target_id: int) -> dict[str, str]:
    """Every account Custos linked at the target: its id there -> the subject (one read of the target's links)."""
    return {str(remote): str(resource) for remote, resource in
            conn.execute(select(_L.c.remote_id, _L.c.resource_id).where(_L.c.target_id == target_id))}  # fmt: skip


def remote_ids(conn: Connection, target_id: int, resource_ids: list[str]) -> dict[str, str]:
    if not resource_ids:
        return {}
    rows = conn.execute(
        select(_L.c.resource_id, _L.c.remote_id).where(_L.c.target_id == target_id, _L.c.resource_id.in_(resource_ids))
    )
    return dict(rows.all())


def save(conn: Connection, target_id: int, resource_type: str, resource_id: str, remote_id: str, version: int) -> None:
    now = datetime.now(UTC)
    changed = conn.execute(
        update(_L)
        .where(_L.c.target_id == target_id, _L.c.resource_id == resource_id)
        .values(remote_id=remote_id, synced_version=version, synced_at=now)
    ).rowcount
    if not changed:
        conn.execute(
            insert(_L).values(
                target_id=target_id,
                resource_id=resource_id,
                resource_type=resource_type,
                remote_id=remote_id,
                synced_version=version,
                synced_at=now,
            )
        )


def drop(conn: Connection, target_id: int, resource_id: str) -> None:
    conn.execute(delete(_L).where(_L.c.target_id == target_id, _L.c.resource_id == resource_id))


def groups_of(conn: Connection, member_id: str) -> list[str]:
    return [row[0] for row in conn.execute(select(_GM.c.group_id).where(_GM.c.member_id == member_id))]


def members_of(conn: Connection, group_id: str) -> list[str]:
    return [row[0] for row in conn.execute(select(_GM.c.member_id).where(_GM.c.group_id == group_id))]
