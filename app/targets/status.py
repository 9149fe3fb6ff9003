"""What the app shows about targets: health per target, and which targets hold one subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from app.core.utc import as_utc
from app.directory import repository as repo
from app.feed import links, outbox
from app.feed.tables import OutboxItem
from app.policy.model import Policy
from app.targets.config import TargetConfig, list_targets
from app.targets.mapping import mapping_for
from app.targets.sync import SyncProgress, progress
from app.targets.verification import DRIFT, IN_SYNC, NOT_VERIFIED, Verification, latest

_O = OutboxItem.__table__
UNCHECKED = Verification(None, None)


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
    verification: Verification = UNCHECKED  # the last check against the target itself

    @property
    def state(self) -> str:
        """ "in sync" only when true: nothing queued or failed, every in-scope User held there, and the last check
        of the target itself, run after the last push, found no difference (decision 0036)."""
        if self.problem:
            return "not provisioned"
        if not self.config.enabled:
            return "disabled"
        if self.failed:
            return "needs attention"
        if self.verification.verdict == DRIFT:
            return DRIFT  # known differences outlast a queue: only a check that finds none ends them
        if self.pending:
            return "catching up"
        if self.sync is not None and self.sync.missing > 0:
            return "incomplete"  # users in scope it does not hold, with nothing queued: reconcile --repair
        return self.verification.verdict  # in sync | not verified

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
                latest(conn, config.id),
            )
        )
    return result


@dataclass(frozen=True)
class Holding:
    target: str
    remote_id: str | None
    state: str  # in sync | not verified | behind | pending | failed | not held


def holdings(conn: Connection, resource_type: str, resource_id: str) -> list[Holding]:
    """For the identity detail: each target, whether it holds this subject, and how fresh its copy is. "in sync"
    only when the target's last check, after this subject's copy was pushed, found no difference there at all."""
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
            state = _verified(latest(conn, target_id), link.synced_at)
        result.append(Holding(name, link.remote_id if link else None, state))
    return result


def _verified(verification: Verification, pushed: datetime) -> str:
    """A copy is known to be right only if a clean check of its target began after it was pushed (the target's
    verdict says so: its last push is never older than this copy's)."""
    last = verification.last
    checked_after = last is not None and last.started >= as_utc(pushed)
    return IN_SYNC if verification.verdict == IN_SYNC and checked_after else NOT_VERIFIED


def sync_word(sync: SyncProgress, verification: Verification) -> str:
    """``target list``'s SYNC: the bookkeeping's word, with ``in-sync`` only when the target was checked since the
    last push and found clean; ``not-verified`` otherwise, and ``drift:N`` while a check's differences stand."""
    word = sync.word()
    if word == "failed":
        return word
    if verification.verdict == DRIFT:
        return f"drift:{verification.drift}"
    if word != "in-sync":
        return word
    return "in-sync" if verification.verdict == IN_SYNC else "not-verified"
