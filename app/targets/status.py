"""What the app shows about targets: health per target, and which targets hold one subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from app.directory import repository as repo
from app.feed import links, outbox
from app.feed.tables import OutboxItem
from app.policy.model import Policy
from app.targets.config import TargetConfig, list_targets
from app.targets.mapping import mapping_for
from app.targets.sync import SyncProgress, progress

_O = OutboxItem.__table__


@dataclass(frozen=True)
class TargetHealth:
    config: TargetConfig
    held: int
    pending: int
    failed: int
    last_error: str | None
    last_success: datetime | None
    sends: tuple[str, ...]  # "User emails.value"…; empty when the recipient is missing from the policy
    problem: str | None  # why it is not provisioned, if it is not
    sync: SyncProgress | None = None  # in-scope Users held vs those it should hold

    @property
    def state(self) -> str:
        """"in sync" only when true: nothing queued or failed, and every in-scope User held there."""
        if self.problem:
            return "not provisioned"
        if not self.config.enabled:
            return "disabled"
        if self.failed:
            return "needs attention"
        if self.pending:
            return "catching up"
        if self.sync is not None and self.sync.missing > 0:
            return "incomplete"  # users in scope it does not hold, with nothing queued: reconcile --repair
        return "in sync"

    @property
    def progress(self) -> str:
        if self.sync is None:
            return ""
        return f"{self.sync.held:,} of {self.sync.in_scope:,} in-scope users held"


def health(conn: Connection, policy: Policy) -> list[TargetHealth]:
    result = []
    for config in list_targets(conn):
        queue = outbox.stats(conn, config.id)
        last_success = conn.execute(
            select(func.max(_O.c.finished)).where(_O.c.target_id == config.id, _O.c.state == "done")
        ).scalar()
        try:
            sends, problem = tuple(mapping_for(policy, config.recipient_id, config.renames).attribute_paths()), None
        except Exception as exc:  # ConfigError: the recipient left the policy
            sends, problem = (), getattr(exc, "user_message", str(exc))
        result.append(
            TargetHealth(
                config,
                len(links.of_target(conn, config.id)),
                queue.pending,
                queue.failed,
                queue.last_error,
                last_success,
                sends,
                problem,
                progress(conn, config, policy, queue) if problem is None else None,
            )
        )
    return result


@dataclass(frozen=True)
class Holding:
    target: str
    remote_id: str | None
    state: str  # in sync | behind | pending | failed | not held


def holdings(conn: Connection, resource_type: str, resource_id: str) -> list[Holding]:
    """For the identity detail: each target, whether it holds this subject, and how fresh its copy is."""
    row = repo.load(conn, resource_type, resource_id)
    names = {t.id: t.name for t in list_targets(conn)}
    held = {link.target_id: link for link in links.of_resource(conn, resource_id)}
    states = dict(
        conn.execute(
            select(_O.c.target_id, func.min(_O.c.state))  # "failed" sorts before "pending"
            .where(_O.c.resource_id == resource_id, _O.c.state.in_(("pending", "failed")))
            .group_by(_O.c.target_id)
        ).all()
    )
    result = []
    for target_id, name in sorted(names.items(), key=lambda item: item[1]):
        link = held.get(target_id)
        if target_id in states:
            state = "failed" if states[target_id] == "failed" else "pending"
        elif link is None:
            state = "not held"
        elif row is not None and link.synced_version < row.version:
            state = "behind"
        else:
            state = "in sync"
        result.append(Holding(name, link.remote_id if link else None, state))
    return result
