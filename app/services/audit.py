"""The audit trail as ``custos audit`` uses it: verify the whole trail, write an evidence bundle for a time range
(on the trail itself, in the transaction that read it), verify or read a bundle offline, sign a checkpoint now, and
the newest entries. The Audit page and the bundle window still call ``app.audit`` directly (listed as debt in
``.importlinter``: another engineer is reworking that page)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.audit.bundle import BundleInfo, split_proved
from app.audit.bundle import verify_bundle as check_bundle
from app.audit.bundle_export import export_recorded_bundle
from app.audit.bundle_read import BundleContents
from app.audit.bundle_read import read_bundle as open_bundle
from app.audit.checkpoints import Checkpoint, checkpoint_now
from app.audit.query import EventFilter, page
from app.audit.trail import StoredEvent
from app.audit.vault_lifecycle import own_opening as _own_opening
from app.audit.verify import VerifyReport, verify_trail
from app.core.errors import ConfigError
from app.store.vault import Vault

__all__ = [
    "BundleContents",
    "BundleInfo",
    "Checkpoint",
    "EventFilter",
    "StoredEvent",
    "TimelineWritten",
    "VerifyReport",
    "checkpoint",
    "export_bundle",
    "export_timeline",
    "matching",
    "newest",
    "own_opening",
    "prune",
    "read_bundle",
    "split_proved",
    "verify",
    "verify_bundle",
]  # fmt: skip

if TYPE_CHECKING:
    from app.exports.audit_timeline import TimelineWritten, export_timeline, matching
    from app.trail_retention import TrailPrune


def verify(vault: Vault) -> VerifyReport:
    """Recompute every entry, the hash chain, the Merkle tree and the signed checkpoints."""
    with vault.read_connection() as conn:
        return verify_trail(conn)


def prune(vault: Vault, dry_run: bool = False, now: datetime | None = None) -> TrailPrune | None:
    """Prune the trail under the policy's ``[own_processing] audit_trail`` period (the hourly job's own step), or
    with ``dry_run`` only say what would go; None when the policy sets no period (nothing is ever pruned then)."""
    from app.policy.in_force import PolicyInForce
    from app.trail_retention import run

    return run(vault, PolicyInForce(vault), now=now, dry_run=dry_run)


def own_opening() -> int | None:
    """The seq of the entry this process recorded when it last unlocked the vault, if it recorded one."""
    return _own_opening.get()


def export_bundle(
    vault: Vault,
    start: datetime | None,
    end: datetime | None,
    out: Path,
    actor: str,
    seqs: tuple[int, int] | None = None,
) -> BundleInfo:
    """The entries of ``[start, end)`` — or the entries ``seqs`` (first, last) — with their inclusion proofs, the
    signed checkpoints and the public key, as a ZIP; a range carries what proves its first entry's chain. The
    export is on the trail in the same transaction: a bundle that is not on the record is removed."""
    return export_recorded_bundle(vault, out, actor, start=start, end=end, seqs=seqs)


def verify_bundle(path: Path, trusted_key_id: str | None = None) -> VerifyReport:
    """Check a bundle offline (no vault: any machine), against the key id anchored elsewhere when given."""
    return check_bundle(path, trusted_key_id=trusted_key_id)


def read_bundle(path: Path) -> BundleContents:
    """A bundle's contents for the read-only viewer (ConfigError for a file that is not a readable bundle)."""
    return open_bundle(path)


def checkpoint(vault: Vault) -> Checkpoint:
    """Sign the current tree head now."""
    with vault.write_transaction() as conn:
        return checkpoint_now(conn)


def newest(vault: Vault, count: int, actor: str | None = None, subject: str | None = None) -> list[StoredEvent]:
    """The ``count`` newest entries, newest first; of ``actor`` (exact) and naming ``subject`` (a pseudonym: the
    entry's subject, or one of the people a list read returned), when given. Filtered in SQL, before the limit."""
    if count < 1:
        raise ConfigError("-n must be at least 1.")
    with vault.read_connection() as conn:
        return page(conn, EventFilter(actor=actor, subject=subject), limit=count)


_TIMELINE = ("TimelineWritten", "export_timeline", "matching")


def __getattr__(name: str) -> object:
    """The timeline export (CSV/XLSX of the filtered or selected entries, app/exports/audit_timeline.py) uses
    pandas: imported by the Audit page when it exports, not by ``custos audit verify``."""
    if name in _TIMELINE:
        from app.exports import audit_timeline

        return getattr(audit_timeline, name)
    raise AttributeError(name)
