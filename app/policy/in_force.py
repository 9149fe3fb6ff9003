"""The policy in force, compiled once per version and shared by the SCIM service and the jobs.

Another process (``custos policy apply`` while ``custos serve`` runs) can apply a new version, so the newest
version number is re-read at most once a second; an apply in this process refreshes at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection

from app.audit.trail import Event, append
from app.policy import versions
from app.policy.minimise import Minimiser
from app.policy.model import Policy
from app.store.change_watch import cached
from app.store.vault import Vault

RECHECK_SECONDS = 1.0
log = logging.getLogger(__name__)


def _warn_if_stale(record: versions.PolicyRecord) -> None:
    """A version applied under older checks keeps running; the log (of the app and of ``serve``) says so once."""
    from app.policy.loader import stale_problems

    stale = stale_problems(record.text)
    if stale:
        log.warning(
            "policy version %d was applied under older checks: %d problem(s) would now be refused (first: line %d: "
            "%s); it stays in force: fix the file with 'policy validate' and apply it again",
            record.version, len(stale), stale[0].line, stale[0].message,
        )  # fmt: skip


@dataclass(frozen=True)
class ActivePolicy:
    record: versions.PolicyRecord
    minimiser: Minimiser

    @property
    def policy(self) -> Policy:
        return self.record.policy

    @property
    def version(self) -> int:
        return self.record.version


def install_default_if_missing(conn: Connection) -> versions.PolicyRecord:
    """A vault without a policy gets the shipped default, recorded like any applied version."""
    current = versions.in_force(conn)
    if current is not None:
        return current
    record = versions.insert_version(conn, versions.default_policy_text(), versions.DEFAULT_OPERATOR)
    append(
        conn,
        Event(
            "policy.applied",
            f"system:{versions.DEFAULT_OPERATOR}",
            details={"version": record.version, "sha256": record.sha256, "default": True},
        ),
    )
    return record


class PolicyInForce:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._lock = threading.Lock()
        self._active: ActivePolicy | None = None
        self._checked = 0.0

    def get(self) -> ActivePolicy:
        now = time.monotonic()
        active = self._active
        if active is not None and now - self._checked < RECHECK_SECONDS:
            return active
        with self._lock:
            if self._active is not None and now - self._checked < RECHECK_SECONDS:
                return self._active  # another thread re-read it while this one waited
            return self._reload(now)

    def refresh(self) -> ActivePolicy:
        """Re-read now (after an apply in this process). Under the lock: a get() on another thread may be half-way
        through a re-read that saw the version before the apply; it finishes first, then this read sees the new
        one. (Only clearing the timestamp let that get() stamp its old version as just checked, and the refresh
        returned it: the apply was not enforced for another second.)"""
        with self._lock:
            return self._reload(time.monotonic())

    def _reload(self, now: float) -> ActivePolicy:
        """Read the newest version number (and the version, when it changed); the lock is held. ``now`` is taken
        before the read, so the copy is never thought fresher than it is."""
        with self._vault.read_connection() as conn:
            latest = versions.latest_version(conn)
            record = None
            if latest is not None and (self._active is None or self._active.version != latest):
                record = versions.get(conn, latest)
        if latest is None:
            with self._vault.write_transaction() as conn:
                record = install_default_if_missing(conn)
        if record is not None:
            self._active = ActivePolicy(record, Minimiser(record.policy))
            _warn_if_stale(record)
        self._checked = now
        assert self._active is not None
        return self._active

    def for_connection(self, conn: Connection) -> ActivePolicy:
        """The version in force as seen by this transaction: writes check against it, so a write racing with an
        apply is judged by the policy its own transaction sees, never by a stale copy. On the one write connection
        the number is cached until ``policy_versions`` changes, in this process or another (decision 0031)."""
        latest = cached(conn, "policy_versions", "latest", lambda: versions.latest_version(conn))
        active = self._active
        if active is not None and active.version == latest:
            return active
        record = versions.get(conn, latest) if latest is not None else install_default_if_missing(conn)
        assert record is not None
        with self._lock:
            if self._active is None or self._active.version < record.version:
                self._active = ActivePolicy(record, Minimiser(record.policy))
            return (
                ActivePolicy(record, Minimiser(record.policy))
                if self._active.version != record.version
                else self._active
            )
