"""Verifying the whole audit trail in the vault: every entry, the chain, the tree, every checkpoint.

One pass over the entries in seq order (keyset batches straight from the DB-API cursor) re-hashes each entry
from its stored content, checks the chain link and the seq, and keeps the recomputed leaf hashes; the Merkle
tree built from them gives the root at every checkpoint size and the consistency proofs between consecutive
checkpoints. A million entries take seconds (benchmarks/bench_audit.py).

Each check is local (an entry against its own hashes and its predecessor's stored chain hash), so one change
shows up at one place. The entries that fail are then explained together: the leaf hash of a displaced entry
still matches its content under its *original* seq, which tells a removal (later entries renumbered), an
insertion and a reordering apart from an edit. A rewrite that recomputed every hash passes those local checks
and is caught by the signed roots instead, located to the smallest subtree that changed.

A trail pruned after its retention period (app/audit/prune.py, decision 0055) starts after entry 1: it is verified
from the signed checkpoint its recorded prune cut at (its chain hash starts the chain, its frontier stands in for
the removed leaves), and the verdict says so. A trail that starts after entry 1 without such a record is verified
from the start, and the missing entries are reported as removed.

A caller that shows the run (the desktop app) passes ``progress`` and ``cancelled``: every ``STEP`` entries the
scan reports (entries checked, total) and asks whether to stop, and stops with ``VerificationCancelled``. The run
only reads, so stopping leaves nothing behind. Without them the scan is the same loop as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from app.audit import prune
from app.audit.checkpoints import EVERY_N, Checkpoint, all_checkpoints
from app.audit.merkle import Frontier, MerkleTree
from app.audit.tables import AuditCheckpoint
from app.audit.verify_checkpoints import check_checkpoints
from app.audit.verify_report import Breach, Pruning, VerificationCancelled, VerifyReport
from app.audit.verify_scan import Scan, explain
from app.store.fastsql import driver_cursor

# Re-exported: the app, the CLI, bundles and tests import these from here.
__all__ = ["Breach", "Cancelled", "Progress", "Pruning", "VerificationCancelled", "VerifyReport", "verify_trail"]

BATCH = 20_000
STEP = 4_000  # entries between progress reports and cancellation checks (a few ms of work each)
_ROWS = (
    "SELECT seq, at, kind, actor, outcome, subject, details, leaf_hash, chain_hash FROM audit_events "
    "WHERE seq > ? ORDER BY seq LIMIT ?"
)
_HIGHEST = "SELECT max(seq) FROM audit_events"  # the total to expect, from the primary key: no scan
_C = AuditCheckpoint.__table__

Progress = Callable[[int, int], None]  # (entries checked, total entries expected)
Cancelled = Callable[[], bool]  # True: stop as soon as possible


def _read_all(
    conn: Connection, scan: Scan, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> None:
    """Feed every entry to ``scan``, in seq order; a watched run reports and may stop every ``STEP`` entries."""
    cursor = driver_cursor(conn)  # tuples, no Row objects
    watch = _Watch(progress, cancelled) if progress is not None or cancelled is not None else None
    try:
        if watch is not None:
            watch.begin(cursor, scan)
        for rows in _batches(cursor):
            if watch is not None:
                watch.feed(scan, rows)
            elif rows:
                scan.feed(rows)
        if watch is not None:
            watch.end(scan)
    finally:
        cursor.close()


def _batches(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Keyset batches of ``BATCH`` rows: no OFFSET to skip over, and no row missed or read twice."""
    last = -(2**63)  # also finds entries whose seq was set to zero or below
    while True:
        rows = cursor.execute(_ROWS, (last, BATCH)).fetchall()
        yield rows
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


@dataclass
class _Watch:
    """A run someone watches: progress reports and a chance to stop, every ``STEP`` entries."""

    progress: Progress | None
    cancelled: Cancelled | None
    total: int = 0

    def begin(self, cursor: Any, scan: Scan) -> None:
        # The highest seq is the entry count of an intact trail. On a tampered one it is an estimate: the total
        # grows with what the scan finds, and the last report is (entries, entries). done only goes up.
        self.total = max(int(cursor.execute(_HIGHEST).fetchone()[0] or 0) - scan.start, 0)
        if self.progress is not None:
            self.progress(0, self.total)

    def feed(self, scan: Scan, rows: list[tuple[Any, ...]]) -> None:
        for start in range(0, len(rows), STEP):
            self._stop_if_asked()
            scan.feed(rows[start : start + STEP])
            self.total = max(self.total, scan.read)
            if self.progress is not None:
                self.progress(scan.read, self.total)

    def end(self, scan: Scan) -> None:
        self._stop_if_asked()  # the last batch checked; the tree is still to build
        if self.progress is not None and self.total != scan.read:
            self.progress(scan.read, scan.read)  # a seq beyond the end made the estimate too high: end at 100 %

    def _stop_if_asked(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise VerificationCancelled()


def _order(breach: Breach) -> tuple[int, int]:
    return (0, breach.seq) if breach.seq is not None else (1, 0)


@dataclass
class _Start:
    """Where the scan starts: the trail's start, or a recorded prune's anchor (its frontier, chain hash, keys)."""

    anchor: Checkpoint | None = None
    frontier: Frontier | None = None
    pruning: Pruning | None = None
    keys: tuple[tuple[int, str, bytes], ...] = ()
    breaches: list[Breach] = field(default_factory=list)


def _start(conn: Connection, checkpoints: list[Checkpoint], frontiers: dict[int, str]) -> _Start:
    """A trail that starts after entry 1 is verified from the checkpoint a recorded prune cut at, and only then.

    Anything else that removed the first entries (no record, a record for another cut, an anchor that is gone or
    does not give its signed root) is verified from the trail's start: the missing entries are reported as removed.
    """
    first = prune.first_seq(conn)
    if first <= 1:
        return _Start()
    record = prune.record_for(conn, first)
    if record is None:
        return _Start()
    anchor = next((c for c in checkpoints if c.tree_size == record.up_to), None)
    frontier = _anchor_frontier(anchor, frontiers.get(record.up_to), record.anchor_fingerprint)
    if anchor is None or frontier is None:
        what = (
            f"the prune of entries 1–{record.up_to} (recorded at seq {record.seq}) cut at the checkpoint at tree size "
            f"{record.up_to} ({record.anchor_fingerprint}), which is gone or altered: nothing proves the entries after"
        )
        return _Start(breaches=[Breach("checkpoint", what)])
    pruning = Pruning(record.up_to, record.at, record.period, anchor.fingerprint, record.seq)
    return _Start(anchor, frontier, pruning, record.keys)


def _anchor_frontier(anchor: Checkpoint | None, nodes: str | None, fingerprint: str) -> Frontier | None:
    """The anchor's stored frontier, if it is the checkpoint the record names and gives that checkpoint's signed
    root (the frontier itself is not signed; its root is). The signature is checked with every checkpoint."""
    if anchor is None or nodes is None or anchor.fingerprint != fingerprint:
        return None
    try:
        frontier = Frontier.from_hex(anchor.tree_size, nodes)
    except ValueError:
        return None
    return frontier if frontier.root().hex() == anchor.root_hash else None


def verify_trail(
    conn: Connection, *, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> VerifyReport:
    """Check every entry, the chain, seq, time order, every checkpoint's root, chain hash, signature and key.

    ``progress(done, total)`` is called every ``STEP`` entries (from the calling thread) and ``cancelled()``
    asked as often; when it answers True the run raises ``VerificationCancelled``.
    """
    checkpoints = all_checkpoints(conn)  # read first: every entry they cover is already there
    frontiers = {size: nodes for size, nodes in conn.execute(select(_C.c.tree_size, _C.c.frontier))}
    start = _start(conn, checkpoints, frontiers)
    anchor = start.anchor
    scan = Scan({c.tree_size for c in checkpoints}, *((anchor.tree_size, anchor.chain_hash) if anchor else ()))
    if anchor is not None:
        scan.chain_at[anchor.tree_size] = anchor.chain_hash  # where the chain of the first entry held starts
    _read_all(conn, scan, progress, cancelled)
    tree = (
        MerkleTree.from_frontier(start.frontier, scan.leaves)
        if start.frontier is not None
        else MerkleTree.from_concatenated(scan.leaves)
    )
    report = VerifyReport(entries=scan.read, checkpoints=len(checkpoints), failing_entries=scan.failing)
    report.first_seq, report.pruned, report.highest_seq = scan.start + 1, start.pruning, scan.highest
    report.root = tree.root().hex() if scan.count else None
    report.first_at, report.last_at = scan.first_at, scan.last_at
    report.last_checkpoint = checkpoints[-1] if checkpoints else None
    entry_breach = explain(scan)
    breaches = [*start.breaches, *([entry_breach] if entry_breach else [])]
    breaches += check_checkpoints(conn, tree, scan, checkpoints, frontiers, start.keys)
    report.breaches = sorted(breaches, key=_order)
    if scan.regressions:
        report.notes.append(
            f"the clock went back {scan.regressions} time(s), first at seq {scan.first_regression} (not a breach)"
        )
    signed = checkpoints[-1].tree_size if checkpoints else 0
    if scan.count > signed:
        unsigned = (
            _unsigned_after_checkpoint(scan.count - signed)
            if checkpoints
            else f"none of the {scan.count} entries is signed yet: there is no checkpoint"
        )
        if checkpoints and scan.count - signed > EVERY_N:  # append() signs every EVERY_N entries at the latest
            unsigned += f" (a checkpoint is due every {EVERY_N} entries: checkpoints failed, or were deleted)"
        report.notes.append(unsigned)
    return report


def _unsigned_after_checkpoint(count: int) -> str:
    return (
        "1 entry after the last checkpoint is not signed yet"
        if count == 1
        else f"{count} entries after the last checkpoint are not signed yet"
    )
