"""Targets (the downstream SCIM applications), the use cases behind ``custos target`` and the app's Targets page:
add one (with its initial sync queued in the same transaction), change, test the connection, remove, reconcile,
and the reads of their state — what each holds, its queue and how far its sync has come.

The Qt-free functions of ``app.targets.service`` do each change; here they are joined by the reads and by the
policy in force, which the caller hands over (the runtime's in the app, one over the vault on the command line).
Credentials go in and are never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.feed import links, outbox
from app.feed.outbox import QueueStats
from app.policy.in_force import PolicyInForce
from app.policy.model import Policy
from app.store.vault import Vault
from app.targets import service as target_service
from app.targets.config import TIMEOUT_RANGE, TargetConfig, list_targets, require_target
from app.targets.service import ConnectionCheck, MappedAttribute, add, change, check_connection, held, preview, remove
from app.targets.status import TargetHealth, health, sync_word
from app.targets.sync import SyncProgress, progress
from app.targets.verification import Verification, latest

if TYPE_CHECKING:
    from app.targets.reconcile import Drift


def __getattr__(name: str) -> object:
    """``Drift`` comes with the HTTP client (httpx): imported when reconciling, not by ``custos target list``."""
    if name == "Drift":
        from app.targets.reconcile import Drift

        return Drift
    raise AttributeError(name)


__all__ = ["TIMEOUT_RANGE", "ConnectionCheck", "Drift", "MappedAttribute", "Policy", "SyncProgress", "TargetConfig",
           "TargetHealth", "TargetRow", "Verification", "add", "change", "check_connection", "check_named", "config",
           "held", "listing", "preview", "reconcile", "remove", "states"]  # fmt: skip


@dataclass(frozen=True)
class TargetRow:
    """One line of ``target list``: the target, what Custos provisioned there, its queue and its sync."""

    config: TargetConfig
    held: int
    queue: QueueStats
    sync: SyncProgress | None  # None: its recipient is not in the policy (nothing is provisioned)
    verification: Verification  # the last check against the target itself (decision 0036)

    @property
    def state(self) -> str:
        return "enabled" if self.config.enabled else "disabled"

    def sync_word(self) -> str:
        """SYNC: ``in-sync`` only when checked against the target since the last push; ``not-provisioned`` when
        its recipient is not in the policy."""
        return "not-provisioned" if self.sync is None else sync_word(self.sync, self.verification)


def config(vault: Vault, name: str) -> TargetConfig:
    """The stored target (ConfigError naming the ones there are when there is none by that name)."""
    with vault.read_connection() as conn:
        return require_target(conn, name)


def listing(vault: Vault, policy: PolicyInForce) -> list[TargetRow]:
    """Every target with its holdings, queue and sync, from one read transaction."""
    active = policy.get().policy
    with vault.read_connection() as conn:
        rows = []
        for target in list_targets(conn):
            holding = len(links.of_target(conn, target.id))
            sync = progress(conn, target, active)
            rows.append(TargetRow(target, holding, outbox.stats(conn, target.id), sync, latest(conn, target.id)))
        return rows


def states(vault: Vault, policy: PolicyInForce) -> tuple[list[TargetHealth], Policy]:
    """Each target's state for the Targets page (and the Overview), with the policy it was judged under."""
    active = policy.get().policy
    with vault.read_connection() as conn:
        return health(conn, active), active


def check_named(vault: Vault, policy: PolicyInForce, name: str) -> ConnectionCheck:
    """Connect to a stored target, run discovery and check it publishes every attribute it is mapped to."""
    return target_service.check_named(vault, policy.get().policy, name)


def reconcile(vault: Vault, policy: PolicyInForce, name: str, repair: bool = False) -> Drift:
    """Compare the target with the mirror (and, with ``repair``, queue what it lacks); an unreachable target is
    a clear error."""
    return target_service.reconcile(vault, policy, name, repair=repair)
