"""The entries of the trail in one streaming pass, and the explanation of those that fail.

Each check is local (an entry against its own hashes and its predecessor's stored chain hash); the failing
entries are then explained together: the leaf hash of a displaced entry still matches its content under its
*original* seq, which tells a removal, an insertion and a reordering apart from an edit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from app.audit.lateness import TIMED_AT_THE_SOURCE as _AT_THE_SOURCE
from app.audit.trail import GENESIS, content_bytes
from app.audit.verify_report import Breach

WINDOW = 8  # how far a displaced entry is searched for around its place (farther ones: among other failures)
MAX_SUSPECTS = 64  # failing entries kept for the explanation; the rest are only counted
_sha256 = hashlib.sha256


@dataclass
class Suspect:
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


def from_hex(text: Any) -> bytes | None:
    try:
        value = bytes.fromhex(text)
    except (TypeError, ValueError):
        return None
    return value if len(value) == 32 else None


class Scan:
    """The streaming pass: per-entry checks, the recomputed leaves, the chain hash at each checkpoint size."""

    def __init__(self, wanted_sizes: set[int], start: int = 0, start_chain: str = GENESIS) -> None:
        self.leaves = bytearray()
        self.start = start  # a pruned trail's anchor: the entries before it are gone, its chain hash starts ours
        self.count = start  # the place (seq) of the last entry read
        self.suspects: list[Suspect] = []
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
            linked = leaf if leaf_ok else from_hex(leaf_hex)
            following = sha256(chain + linked).digest() if linked is not None else None
            chain_ok = following is not None and following.hex() == chain_hex
            if not (chain_ok and leaf_ok and seq == expected):
                relinked = not leaf_ok and sha256(chain + leaf).hexdigest() == chain_hex
                self._suspect(Suspect(count, expected, tuple(row), leaf_ok, chain_ok, relinked))
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
            chain = following if chain_ok and following is not None else (from_hex(chain_hex) or following or chain)
            expected = seq + 1 if isinstance(seq, int) else expected + 1
        self._chain, self._expected, self._last_at, self.count = chain, expected, last_at, count
        if rows:
            self.first_at = self.first_at or _text(rows[0][1])
            self.last_at = _text(rows[-1][1])

    def _suspect(self, suspect: Suspect) -> None:
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


def explain(scan: Scan) -> Breach | None:
    """The first failing entry, and what happened to it, from the evidence of all failing entries."""
    if not scan.suspects:
        return None
    scan.resolve_far_origins()
    displaced = {s.origin: s for s in scan.suspects if s.origin is not None and s.origin != s.seq}
    first = scan.suspects[0]
    if first.seq > first.expected:
        return _gap(first, displaced)
    if first.seq < first.expected:
        return Breach("reordered", f"an entry carries seq {first.seq} out of order", first.expected)
    if first.origin is not None and first.origin != first.seq:
        return _moved(first, first.origin, displaced)
    return _in_place(first, displaced)


def _gap(first: Suspect, displaced: dict[int, Suspect]) -> Breach:
    """A gap in seq: the entry expected here was moved elsewhere, or is gone."""
    gone = first.expected
    moved = displaced.get(gone)
    if moved is not None:
        return Breach("reordered", f"the entry written as seq {gone} now carries seq {moved.seq}", gone)
    span = f"entry {gone} is" if first.seq == gone + 1 else f"entries {gone}–{first.seq - 1} are"
    return Breach("removed", f"{span} missing", gone)


def _moved(first: Suspect, origin: int, displaced: dict[int, Suspect]) -> Breach:
    """The entry here was written under another seq: entries were inserted before it, swapped, or removed."""
    if origin < first.seq:
        span = f"entry {origin} was" if first.seq == origin + 1 else "entries were"
        return Breach("inserted", f"{span} inserted here (later entries renumbered)", origin)
    original = displaced.get(first.seq)
    if original is not None:
        what = f"the entry written as seq {origin} is here; the one written here is at seq {original.seq}"
        return Breach("reordered", what, first.seq)
    last_gone = origin - 1
    span = f"entry {first.seq} was" if last_gone == first.seq else f"entries {first.seq}–{last_gone} were"
    return Breach("removed", f"{span} removed and later entries renumbered", first.seq)


def _in_place(first: Suspect, displaced: dict[int, Suspect]) -> Breach:
    """An entry in its place that fails: which of its hashes still holds tells an edit from a replacement."""
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
