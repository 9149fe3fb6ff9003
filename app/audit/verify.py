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

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from app.audit import prune
from app.audit.checkpoints import EVERY_N, Checkpoint, all_checkpoints, key_announcements, key_in_force
from app.audit.lateness import TIMED_AT_THE_SOURCE as _AT_THE_SOURCE
from app.audit.merkle import Frontier, MerkleTree, verify_consistency
from app.audit.tables import AuditCheckpoint, SigningKey
from app.audit.trail import GENESIS, content_bytes
from app.core.errors import CustosError
from app.store.fastsql import driver_cursor
from app.store.models import VaultInfo

BATCH = 20_000
STEP = 4_000  # entries between progress reports and cancellation checks (a few ms of work each)
WINDOW = 8  # how far a displaced entry is searched for around its place (farther ones: among other failures)
MAX_SUSPECTS = 64  # failing entries kept for the explanation; the rest are only counted
_ROWS = (
    "SELECT seq, at, kind, actor, outcome, subject, details, leaf_hash, chain_hash FROM audit_events "
    "WHERE seq > ? ORDER BY seq LIMIT ?"
)
_HIGHEST = "SELECT max(seq) FROM audit_events"  # the total to expect, from the primary key: no scan
_sha256 = hashlib.sha256
_C = AuditCheckpoint.__table__
_K = SigningKey.__table__

Progress = Callable[[int, int], None]  # (entries checked, total entries expected)
Cancelled = Callable[[], bool]  # True: stop as soon as possible


class VerificationCancelled(CustosError):
    """The user stopped a verification before its verdict; nothing was written, so there is nothing to undo."""

    def __init__(self) -> None:
        super().__init__("Verification cancelled. The trail was only read and is unchanged; no verdict was reached.")


@dataclass(frozen=True)
class Pruning:
    """Entries 1–``up_to`` were removed by a recorded prune (seq ``record``): verified from the signed checkpoint
    at ``up_to`` on, never from the trail's start."""

    up_to: int
    on: str  # when the prune was recorded (the record's time)
    period: str
    anchor: str  # the anchor checkpoint's fingerprint
    record: int

    def describe(self, short: bool = False) -> str:
        span = "entry 1" if self.up_to == 1 else f"entries 1–{self.up_to}"
        pruned = f"{span} pruned under the retention period {self.period} on {self.on[:10]}"
        if short:
            return f"{pruned}, verified from the signed checkpoint at {self.up_to}"
        return (
            f"{pruned} (recorded at seq {self.record}); verified from the signed checkpoint at {self.up_to} "
            f"({self.anchor}), not from the trail's start"
        )


@dataclass(frozen=True)
class Breach:
    kind: str  # altered | inserted | removed | reordered | rewritten | checkpoint | bundle
    what: str
    seq: int | None = None

    def render(self) -> str:
        return f"at seq {self.seq}: {self.what}" if self.seq is not None else self.what


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    root: str | None = None  # the Merkle root over every entry checked
    breaches: list[Breach] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not failures: clock regressions, unsigned tail…
    failing_entries: int = 0
    last_checkpoint: Checkpoint | None = None
    proved: list[str] = field(default_factory=list)  # an evidence bundle's verdict: what exactly it proved
    first_at: str | None = None  # the time of the first entry scanned, and of the last: the range the verdict covers
    last_at: str | None = None
    # What an intact verdict rests on without having checked it (the bundle's key, when no trusted id was given):
    # printed as "Not proved:", so that "intact" is never read as proof of what was only assumed.
    assumed: list[str] = field(default_factory=list)
    # A trail pruned after its retention period (app/audit/prune.py): its first entry, and the prune that removed
    # those before it, whose signed anchor the verdict starts from. 1 and None for a trail kept from its start.
    first_seq: int = 1
    pruned: Pruning | None = None
    # The seq of the last entry read. On a trail with entries missing from within it, more than ``last_seq`` (which
    # counts), and "entries 1–78 read" then named a range the trail does not hold as read (entry 22 gone, 79 there).
    highest_seq: int | None = None

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.entries - 1

    @property
    def ok(self) -> bool:
        return not self.breaches

    @property
    def first_breach(self) -> Breach | None:
        return self.breaches[0] if self.breaches else None

    def covered(self, when: Callable[[str | None], str] = str) -> str | None:
        """What a verdict on the vault's trail covered: the entries by seq and time, and how far they are signed.
        The entries after the last checkpoint are only chain-checked: cutting them off the end leaves no trace.
        ``when`` writes the two stored times: the CLI keeps the stored ISO form, the app its own zone-named one."""
        if not self.entries:
            return None
        span = f"entries {self.first_seq}–{self.last_seq} ({when(self.first_at)} to {when(self.last_at)})"
        if self.pruned is not None:
            span = f"{span}, {self.pruned.describe()}"
        if not self.ok:  # what was read; how far a signature covers it is for an intact trail to say
            if self.highest_seq is not None and self.highest_seq != self.last_seq:
                span = (
                    f"{self.entries} entries, seq {self.first_seq} to {self.highest_seq} with some missing "
                    f"({when(self.first_at)} to {when(self.last_at)})"
                ) + (f", {self.pruned.describe()}" if self.pruned is not None else "")
            return f"{span} read; the problems above say what no longer holds"
        last = self.last_checkpoint
        if last is None:
            return f"{span}; none is under a signed checkpoint yet: entries cut off the end would leave no trace"
        if last.tree_size >= self.last_seq:
            return f"{span}, every one under checkpoint {last.fingerprint}"
        unsigned = (
            f"entry {self.last_seq} only chain-checked: cut off the end, it would leave no trace"
            if self.last_seq == last.tree_size + 1
            else f"entries {last.tree_size + 1}–{self.last_seq} only chain-checked: cut off the end, they would leave "
            "no trace"
        )
        return f"{span}; signed up to entry {last.tree_size} (checkpoint {last.fingerprint}), {unsigned}"

    def summary(self, noun: str = "Audit trail") -> str:
        if self.ok:
            root = f"{self.root[:16]}…" if self.root else "none (empty)"
            held = f"{self.entries} entries" + (f" ({self.pruned.describe(short=True)})" if self.pruned else "")
            # "1 checkpoints" stays: the line is a printed contract (app/commands/audit.py, "M checkpoints"), and
            # scripts and tests read it as r"(\d+) checkpoints"; a singular would break them for one count.
            return f"{noun} intact: {held}, {self.checkpoints} checkpoints, root {root}"
        first = self.breaches[0]
        if first.seq is not None:
            return f"{noun} BROKEN at seq {first.seq}: {first.what}"
        return f"{noun} BROKEN: {first.what}"


@dataclass
class _Suspect:
    position: int  # 1-based place in seq order (= the seq it should have)
    expected: int  # previous seq + 1
    row: tuple[Any, ...]
    leaf_ok: bool
    chain_ok: bool
    relinked: bool  # the stored chain hash follows from the recomputed leaf: only the leaf hash field changed
    origin: int | None = None  # the seq under which its stored leaf hash matches its content

    @property
    def seq(self) -> int:
        return int(self.row[0])


def _text(value: Any) -> str:
    """A stored time as the verdict prints it; a tampered row may hold anything (its leaf already fails)."""
    return value if isinstance(value, str) else repr(value)


def _leaf_of(row: tuple[Any, ...], seq: int | None = None) -> bytes | None:
    try:
        data = content_bytes(row[0] if seq is None else seq, *row[1:7])
    except (TypeError, ValueError, AttributeError):  # a field replaced by something append() never writes
        return None
    return _sha256(b"\x00" + data).digest()


def _origin(row: tuple[Any, ...], candidates: list[int]) -> int | None:
    for seq in candidates:
        leaf = _leaf_of(row, seq)
        if leaf is not None and leaf.hex() == row[7]:
            return seq
    return None


def _from_hex(text: Any) -> bytes | None:
    try:
        value = bytes.fromhex(text)
    except (TypeError, ValueError):
        return None
    return value if len(value) == 32 else None


class _Scan:
    """The streaming pass: per-entry checks, the recomputed leaves, the chain hash at each checkpoint size."""

    def __init__(self, wanted_sizes: set[int], start: int = 0, start_chain: str = GENESIS) -> None:
        self.leaves = bytearray()
        self.start = start  # a pruned trail's anchor: the entries before it are gone, its chain hash starts ours
        self.count = start  # the place (seq) of the last entry read
        self.suspects: list[_Suspect] = []
        self.failing = 0
        self.missing: list[int] = []
        self.chain_at: dict[int, str] = {}
        self._wanted = wanted_sizes
        self._chain = bytes.fromhex(start_chain)
        self._expected = start + 1
        self._last_at = ["", ""]  # the latest time so far: of entries timed when written, of those timed at the source
        self.regressions = 0
        self.first_regression: int | None = None
        self.first_at: str | None = None  # the stored times of the first and the last entry read
        self.last_at: str | None = None

    def feed(self, rows: list[tuple[Any, ...]]) -> None:
        sha256, leaves, wanted = _sha256, self.leaves, self._wanted
        chain, expected, last_at, count = self._chain, self._expected, self._last_at, self.count
        for row in rows:
            seq, at, kind, actor, outcome, subject, details, leaf_hex, chain_hex = row
            count += 1
            try:
                leaf = sha256(b"\x00" + content_bytes(seq, at, kind, actor, outcome, subject, details)).digest()
            except (TypeError, ValueError, AttributeError):
                leaf = sha256(b"\x00").digest()  # unreadable content: a leaf that matches nothing
            leaf_ok = leaf.hex() == leaf_hex
            linked = leaf if leaf_ok else _from_hex(leaf_hex)
            following = sha256(chain + linked).digest() if linked is not None else None
            chain_ok = following is not None and following.hex() == chain_hex
            if not (chain_ok and leaf_ok and seq == expected):
                relinked = not leaf_ok and sha256(chain + leaf).hexdigest() == chain_hex
                self._suspect(_Suspect(count, expected, tuple(row), leaf_ok, chain_ok, relinked))
            if isinstance(at, str):  # a tampered row may hold anything; its leaf already fails
                # Request entries are timed when answered and written later (decision 0034): their times go back
                # only against each other's, not against the entries written meanwhile.
                stream = 1 if kind in _AT_THE_SOURCE else 0
                if at < last_at[stream]:
                    self.regressions += 1
                    self.first_regression = self.first_regression or seq
                last_at[stream] = at
            leaves += leaf
            if count in wanted:
                self.chain_at[count] = chain_hex
            chain = following if chain_ok and following is not None else (_from_hex(chain_hex) or following or chain)
            expected = seq + 1 if isinstance(seq, int) else expected + 1
        self._chain, self._expected, self._last_at, self.count = chain, expected, last_at, count
        if rows:
            self.first_at = self.first_at or _text(rows[0][1])
            self.last_at = _text(rows[-1][1])

    def _suspect(self, suspect: _Suspect) -> None:
        self.failing += 1
        if suspect.seq > suspect.expected and len(self.missing) < MAX_SUSPECTS:
            self.missing.extend(range(suspect.expected, min(suspect.seq, suspect.expected + MAX_SUSPECTS)))
        if len(self.suspects) >= MAX_SUSPECTS:
            return
        if suspect.leaf_ok:
            suspect.origin = suspect.seq
        else:
            nearby = [suspect.seq + d for d in range(-WINDOW, WINDOW + 1) if d and suspect.seq + d > 0]
            suspect.origin = _origin(suspect.row, nearby)
        self.suspects.append(suspect)

    @property
    def read(self) -> int:
        return self.count - self.start

    @property
    def highest(self) -> int:
        """The seq of the last entry read (rows come in seq order): the trail's end, whatever is missing before it."""
        return self._expected - 1

    def resolve_far_origins(self) -> None:
        """Entries moved far away: try the places where other entries failed or went missing."""
        candidates = sorted({s.seq for s in self.suspects} | {s.position for s in self.suspects} | set(self.missing))
        for suspect in self.suspects:
            if suspect.origin is None:
                suspect.origin = _origin(suspect.row, [c for c in candidates if c != suspect.seq])


def _explain(scan: _Scan) -> Breach | None:
    """The first failing entry, and what happened to it, from the evidence of all failing entries."""
    if not scan.suspects:
        return None
    scan.resolve_far_origins()
    displaced = {s.origin: s for s in scan.suspects if s.origin is not None and s.origin != s.seq}
    first = scan.suspects[0]
    if first.seq > first.expected:  # a gap in seq
        gone = first.expected
        moved = displaced.get(gone)
        if moved is not None:
            return Breach("reordered", f"the entry written as seq {gone} now carries seq {moved.seq}", gone)
        span = f"entry {gone} is" if first.seq == gone + 1 else f"entries {gone}–{first.seq - 1} are"
        return Breach("removed", f"{span} missing", gone)
    if first.seq < first.expected:
        return Breach("reordered", f"an entry carries seq {first.seq} out of order", first.expected)
    if first.origin is not None and first.origin != first.seq:
        if first.origin < first.seq:
            span = f"entry {first.origin} was" if first.seq == first.origin + 1 else "entries were"
            return Breach("inserted", f"{span} inserted here (later entries renumbered)", first.origin)
        original = displaced.get(first.seq)
        if original is not None:
            what = f"the entry written as seq {first.origin} is here; the one written here is at seq {original.seq}"
            return Breach("reordered", what, first.seq)
        last_gone = first.origin - 1
        span = f"entry {first.seq} was" if last_gone == first.seq else f"entries {first.seq}–{last_gone} were"
        return Breach("removed", f"{span} removed and later entries renumbered", first.seq)
    if first.leaf_ok:
        return Breach("altered", "its chain hash does not follow from the previous entry", first.seq)
    if first.chain_ok:
        return Breach("altered", "its content does not match its leaf hash", first.seq)
    if first.relinked:
        return Breach("altered", "its leaf hash field was changed", first.seq)
    if displaced.get(first.seq) is not None:
        return Breach("inserted", "this entry was inserted (later entries renumbered)", first.seq)
    what = "neither its leaf hash nor its chain hash belong to the trail (inserted or replaced)"
    return Breach("inserted", what, first.seq)


def _read_all(
    conn: Connection, scan: _Scan, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> None:
    cursor = driver_cursor(conn)  # tuples, no Row objects
    watched = progress is not None or cancelled is not None
    try:
        # The highest seq is the entry count of an intact trail. On a tampered one it is an estimate: the total
        # grows with what the scan finds, and the last report is (entries, entries). done only goes up.
        total = max(int(cursor.execute(_HIGHEST).fetchone()[0] or 0) - scan.start, 0) if watched else 0
        if progress is not None:
            progress(0, total)
        last = -(2**63)  # also finds entries whose seq was set to zero or below
        while True:
            rows = cursor.execute(_ROWS, (last, BATCH)).fetchall()
            if not watched:
                if rows:
                    scan.feed(rows)
            else:
                for start in range(0, len(rows), STEP):
                    if cancelled is not None and cancelled():
                        raise VerificationCancelled()
                    scan.feed(rows[start : start + STEP])
                    total = max(total, scan.read)
                    if progress is not None:
                        progress(scan.read, total)
            if len(rows) < BATCH:
                break
            last = rows[-1][0]
        if cancelled is not None and cancelled():  # the last batch checked; the tree is still to build
            raise VerificationCancelled()
        if progress is not None and total != scan.read:
            progress(scan.read, scan.read)  # a seq beyond the end made the estimate too high: end at 100 %
    finally:
        cursor.close()


def _rewritten_range(tree: MerkleTree, checkpoint: Checkpoint, frontier_hex: str | None, after: int) -> int:
    """The first seq a rewrite can have touched: after the last good checkpoint, within the first changed subtree."""
    if not frontier_hex:
        return after + 1
    try:
        nodes = bytes.fromhex(frontier_hex)
    except ValueError:
        return after + 1
    start, index = 0, 0
    for bit in reversed(range(checkpoint.tree_size.bit_length())):
        width = 1 << bit
        if checkpoint.tree_size & width:
            if nodes[32 * index : 32 * index + 32] != tree.subtree_hash(start, start + width):
                return max(after, start) + 1
            start, index = start + width, index + 1
    return after + 1


def _vault_keys(conn: Connection) -> dict[str, bytes]:
    """The public halves of the vault's own signing keys: trusted only to recognise this vault's checkpoints once
    the trail that announced them is gone (truncated or emptied)."""
    return {str(key_id): bytes(public) for key_id, public in conn.execute(select(_K.c.id, _K.c.public_key))}


_WRITTEN_AFTER = "SELECT min(seq) FROM audit_events WHERE seq > ? AND seq <= ? AND at > ?"


def _written_after(conn: Connection, checkpoint: Checkpoint, proven: int, count: int) -> int | None:
    """The first entry not proven by a sound checkpoint (after ``proven``) whose time is later than ``checkpoint``
    was signed although its seq is within the checkpoint: written after the trail was cut, in the place of what was
    removed. An entry's time is never later than its writing (request entries are timed before it), and the
    checkpoint signs entries already written, so on one clock this is never the case for an entry it covered."""
    cursor = driver_cursor(conn)
    try:
        cursor.execute(_WRITTEN_AFTER, (proven, count, checkpoint.time))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row and row[0] is not None else None


def _beyond_the_end(
    checkpoint: Checkpoint, label: str, scan: _Scan, public: bytes | None, announced: bool, written_after: int | None
) -> Breach:
    """A checkpoint covering more entries than the trail holds: entries were cut off (when it is genuine).

    Entries appended after the cut (the next unlock writes one) take the removed entries' seqs: ``written_after``,
    the first of them, is where the trail stops being the one signed, not the first seq that is absent.

    The trail may also hold fewer entries because some went from within it while its last signed entry is still
    there (``scan.highest`` reaches the checkpoint): nothing was cut off the end then, and saying "entries
    count+1–size are missing" named entries that are present; the gaps themselves are reported where they are.
    """
    size, count = checkpoint.tree_size, scan.count
    if public is None or not checkpoint.signature_valid(public):
        what = (
            f"{label} covers {size} entries but the trail ends at {count}, and it cannot be verified (its key is "
            "neither announced on the trail nor held by the vault): entries were removed, or the checkpoint forged"
        )
        return Breach("checkpoint", what)
    gone = "" if announced else f"; its key {checkpoint.key_id} is this vault's, whose announcement went with them"
    if written_after is not None:
        what = (
            f"entries {written_after}–{size} are not the ones signed: {label} covers {size} entries, signed "
            f"{checkpoint.time}; the trail ends at {count}, and entries {written_after}–{count} were written after "
            f"that time in the place of removed ones{gone}"
        )
        return Breach("removed", what, written_after)
    if count and scan.highest >= size:
        fewer = size - count
        what = (
            f"{label} covers {size} entries and the trail holds {count} up to seq {scan.highest}: {fewer} signed "
            f"{'entry is' if fewer == 1 else 'entries are'} missing from within it, none cut off its end{gone}"
        )
        return Breach("removed", what, scan.missing[0] if scan.missing else None)
    missing = "every entry is missing (the trail is empty)" if count == 0 else _missing_span(count + 1, size)
    return Breach("removed", f"{missing}: {label} covers {size} entries, the trail ends at {count}{gone}", count + 1)


def _missing_span(first: int, last: int) -> str:
    return f"entry {first} is missing" if first == last else f"entries {first}–{last} are missing"


def _check_checkpoints(
    conn: Connection,
    tree: MerkleTree,
    scan: _Scan,
    checkpoints: list[Checkpoint],
    frontiers: dict[int, str],
    carried: tuple[tuple[int, str, bytes], ...] = (),
) -> list[Breach]:
    """``carried``: the key announcements a prune removed, as its record restates them (a pruned trail only)."""
    breaches: list[Breach] = []
    announcements = sorted([*carried, *key_announcements(conn)])
    announced = {key_id: public for _, key_id, public in announcements}
    log_id = conn.execute(select(VaultInfo.value).where(VaultInfo.key == "vault_id")).scalar() or ""
    good_size = scan.start
    explained_up_to = scan.suspects[0].position if scan.suspects else scan.count + 1  # failing entries explain it
    previous: Checkpoint | None = None
    previous_sound = False
    truncation: Breach | None = None
    for checkpoint in checkpoints:
        size = checkpoint.tree_size
        if size < scan.start:
            continue  # left from before a prune: it signs only removed entries, nothing held can be checked against it
        label = f"the checkpoint at tree size {size} ({checkpoint.fingerprint})"
        key = key_in_force(announcements, size)
        in_force = key is not None and key[0] == checkpoint.key_id
        sound = False
        if size > scan.count:  # checked before the key: a cut-off trail may have lost the key's announcement too
            public = key[1] if in_force and key else announced.get(checkpoint.key_id)
            public = public or _vault_keys(conn).get(checkpoint.key_id)
            after = _written_after(conn, checkpoint, good_size, scan.count) if scan.count else None
            breach = _beyond_the_end(checkpoint, label, scan, public, checkpoint.key_id in announced, after)
            if breach.kind == "removed":  # the largest genuine checkpoint tells best how much is missing
                truncation = breach
            else:
                breaches.append(breach)
            previous, previous_sound = checkpoint, False
            continue
        public = key[1] if in_force and key else announced.get(checkpoint.key_id)
        if public is None:
            breaches.append(Breach("checkpoint", f"{label} is signed with a key that was not in force at that size"))
            previous, previous_sound = checkpoint, False
            continue  # an untrusted checkpoint says nothing about the entries
        if not checkpoint.signature_valid(public):
            breaches.append(Breach("checkpoint", f"{label} has a signature that does not verify"))
            previous, previous_sound = checkpoint, False
            continue
        if checkpoint.log_id != log_id:
            breaches.append(Breach("checkpoint", f"{label} belongs to another vault's trail"))
        # Signed with this trail's key but announced after ``size`` now: either entries before the announcement
        # were inserted or renumbered (the entries or the root below say where), or the checkpoint was re-signed
        # with a later key (the root still matches: the epoch rule of CVE-2023-31439 rejects it).
        if size >= explained_up_to:
            pass  # the roots from here on differ because of the failing entries already reported
        elif tree.root(size).hex() != checkpoint.root_hash:
            first = _rewritten_range(tree, checkpoint, frontiers.get(size), good_size)
            what = f"entries {first}–{size} no longer match the signed root of {label} (history rewritten)"
            breaches.append(Breach("rewritten", what, first))
            good_size = first - 1  # its matching subtrees prove the entries before ``first`` unchanged
        elif not in_force:
            breaches.append(Breach("checkpoint", f"{label} is signed with a key that was not in force at that size"))
        elif scan.chain_at.get(size) != checkpoint.chain_hash:
            breaches.append(Breach("rewritten", f"the chain hash at entry {size} differs from {label}", size))
        else:
            good_size, sound = size, True
        if previous is not None and previous_sound and sound:
            proof = tree.consistency_proof(previous.tree_size, size)
            old_root, new_root = _from_hex(previous.root_hash), _from_hex(checkpoint.root_hash)
            if (
                old_root is None
                or new_root is None
                or not verify_consistency(previous.tree_size, size, old_root, new_root, proof)
            ):
                what = f"{label} does not extend the checkpoint at tree size {previous.tree_size}"
                breaches.append(Breach("checkpoint", what))
        previous, previous_sound = checkpoint, sound
    if truncation is not None:
        breaches.append(truncation)
    # A prune removes the checkpoints before its anchor: the announcements it carried have none left (by design).
    breaches.extend(_deleted_checkpoints([a for a in announcements if a[0] >= scan.start], checkpoints))
    if truncation is None:
        breaches.extend(_unannounced_keys(_vault_keys(conn), announced, checkpoints))
    return breaches


def _unannounced_keys(
    keys: dict[str, bytes], announced: dict[str, bytes], checkpoints: list[Checkpoint]
) -> list[Breach]:
    """A signing key is made, announced on the trail and used for a checkpoint in one transaction: a key of the
    vault with neither its announcement nor any checkpoint left means entries and checkpoints were both deleted
    (checkpoints still there are judged above)."""
    signed = {c.key_id for c in checkpoints}
    return [
        Breach(
            "removed",
            f"entries and checkpoints were deleted: the vault's signing key {key_id} was announced on the trail "
            "when it was made, and neither that entry nor any checkpoint it signed is left",
        )
        for key_id in sorted(keys)
        if key_id not in announced and key_id not in signed
    ]


def _deleted_checkpoints(announcements: list[tuple[int, str, bytes]], checkpoints: list[Checkpoint]) -> list[Breach]:
    """A key is announced on the trail only by the checkpoint signed with it right then, in the same transaction
    (app/audit/checkpoints.py): that checkpoint's tree size is the announcement's seq. Without it, checkpoints were
    deleted, and the entries they covered may no longer be under any signature."""
    breaches = []
    for seq, key_id, _ in announcements:
        # One at a smaller size means the announcement itself moved (entries inserted before it): reported there.
        if not any(c.key_id == key_id and c.tree_size <= seq for c in checkpoints):
            what = (
                f"checkpoints were deleted: the one signed when the key {key_id} was announced (tree size {seq}) is "
                f"gone ({len(checkpoints)} checkpoint(s) left)"
            )
            breaches.append(Breach("checkpoint", what))
    return breaches


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
    scan = _Scan({c.tree_size for c in checkpoints}, *((anchor.tree_size, anchor.chain_hash) if anchor else ()))
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
    entry_breach = _explain(scan)
    breaches = [*start.breaches, *([entry_breach] if entry_breach else [])]
    breaches += _check_checkpoints(conn, tree, scan, checkpoints, frontiers, start.keys)
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
