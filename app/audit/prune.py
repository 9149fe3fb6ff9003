"""Pruning the audit trail after its retention period, at a signed checkpoint (decision 0055).

The trail is a hash chain and a Merkle tree from its first entry: deleting entries 1–N by hand reads as tampering,
and must. A prune therefore cuts only at a signed checkpoint N, whose ``chain_hash`` is where the chain of entry N+1
starts and whose stored frontier (checked against its signed root) stands in for the tree of the removed leaves,
so every later checkpoint, proof and bundle still verifies. The prune is recorded on the trail, in the transaction
that deletes, by an ``audit.pruned`` entry stating the range, the count, the anchor checkpoint and the period (no
personal data), and the signing keys announced among the removed entries: without them no verifier could tell
which key may sign the anchor. A trail that starts after entry 1 without such a record is reported as tampered.

What must not go is the caller's to say (``Hold``): entries a SIEM destination has not acknowledged, the window
of a breach that is not closed (app/jobs.py gathers them). This module cuts, records, and reads the record back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from app.audit.checkpoints import Checkpoint, key_announcements
from app.audit.merkle import Frontier
from app.audit.tables import AuditCheckpoint, AuditEvent
from app.audit.trail import Event, StoredEvent, append, iso_utc, parse_utc

KIND = "audit.pruned"
ACTOR = "system:retention"
_A = AuditEvent.__table__
_C = AuditCheckpoint.__table__


@dataclass(frozen=True)
class Hold:
    """Entries from ``seq`` on must stay, for ``why`` (words without personal data: a destination's name, an
    incident's number)."""

    seq: int
    why: str


@dataclass(frozen=True)
class PrunePlan:
    period: str  # ISO 8601, as the policy states it
    cutoff: str  # entries timed before this have outlived the period
    first_seq: int  # the oldest entry the trail holds now (1 unless pruned before; 0: empty)
    anchor: Checkpoint | None  # the checkpoint the cut stops at; None: nothing can be removed now
    holds: tuple[Hold, ...] = ()  # what keeps entries the period alone would let go

    @property
    def last_seq(self) -> int:
        return self.anchor.tree_size if self.anchor else self.first_seq - 1

    @property
    def count(self) -> int:
        return max(0, self.last_seq - self.first_seq + 1)


@dataclass(frozen=True)
class PruneRecord:
    """What the newest ``audit.pruned`` entry states: entries 1–``up_to`` are gone, verified from its anchor."""

    seq: int  # of the record itself
    at: str
    up_to: int
    anchor_fingerprint: str
    period: str
    cutoff: str
    keys: tuple[tuple[int, str, bytes], ...]  # (seq, key id, public key) of keys announced in what was removed


def first_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.min(_A.c.seq))).scalar() or 0)


def _last_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.max(_A.c.seq))).scalar() or 0)


def _first_at_or_after(conn: Connection, cutoff: str) -> int | None:
    """The first entry timed at or after ``cutoff``: every entry before it is timed before (times need not grow
    with seq, decision 0034, so this is a search, not a bisection)."""
    # ORDER BY seq LIMIT 1 walks the primary key and stops at the first match (min() with a WHERE on an unindexed
    # column reads the whole table): on a trail pruned before, only the entries that aged out since are read.
    value = conn.execute(select(_A.c.seq).where(_A.c.at >= cutoff).order_by(_A.c.seq).limit(1)).scalar()
    return None if value is None else int(value)


def _sound_anchor(conn: Connection, row: Any) -> bool:
    """The checkpoint's frontier gives its signed root and entry N still carries its signed chain hash: the cut
    there lets verification continue (a checkpoint that does not is never an anchor)."""
    try:
        frontier = Frontier.from_hex(row.tree_size, row.frontier)
    except ValueError:
        return False
    if frontier.root().hex() != row.root_hash:
        return False
    stored = conn.execute(select(_A.c.chain_hash).where(_A.c.seq == row.tree_size)).scalar()
    return stored == row.chain_hash


def plan(conn: Connection, period: str, cutoff: datetime, holds: list[Hold] | None = None) -> PrunePlan:
    """What a prune would remove now: the entries up to the newest sound checkpoint that every entry before it is
    timed before ``cutoff`` and no hold keeps. Reads only."""
    first, last = first_seq(conn), _last_seq(conn)
    cutoff_text = iso_utc(cutoff)
    kept = [*(holds or [])]
    newer = _first_at_or_after(conn, cutoff_text)
    # The newest entry always stays: append() continues the chain from the last entry held (an empty table would
    # start it again at seq 1 from the genesis hash).
    limit = min([last, newer if newer is not None else last, *(h.seq for h in kept)]) - 1
    anchor = None
    if first and limit >= first:
        rows = conn.execute(
            select(_C).where(_C.c.tree_size.between(first, limit)).order_by(_C.c.tree_size.desc())
        ).fetchall()
        row = next((r for r in rows if _sound_anchor(conn, r)), None)
        if row is not None:
            anchor = Checkpoint(
                row.tree_size, row.root_hash, row.chain_hash, row.time, row.log_id, row.key_id, row.signature
            )
    binding = tuple(h for h in kept if h.seq <= (newer if newer is not None else last + 1))
    return PrunePlan(period, cutoff_text, first, anchor, binding)


def _keys_to_carry(conn: Connection, up_to: int) -> list[dict[str, Any]]:
    """The key announcements among the entries to be removed, and those an earlier prune carried: a verifier
    learns from them which key may sign the anchor and the checkpoints after it."""
    carried = {seq: (key_id, public) for seq, key_id, public in (last_record(conn) or _NO_RECORD).keys}
    for seq, key_id, public in key_announcements(conn):
        if seq <= up_to:
            carried[seq] = (key_id, public)
    return [{"seq": s, "key_id": k, "public_key": p.hex()} for s, (k, p) in sorted(carried.items())]


def prune(conn: Connection, chosen: PrunePlan, now: datetime) -> StoredEvent | None:
    """Remove the planned entries and the checkpoints before the anchor, and record it, in the caller's write
    transaction (None when the plan removes nothing). The plan is re-read here: what another writer did since it
    was made cannot widen the cut."""
    again = plan(conn, chosen.period, parse_utc(chosen.cutoff), list(chosen.holds))
    anchor = chosen.anchor
    if anchor is None or again.anchor is None or again.anchor.tree_size < anchor.tree_size:
        return None
    if again.first_seq != chosen.first_seq:  # another prune came first: this plan's range is no longer the trail's
        return None
    up_to = anchor.tree_size
    keys = _keys_to_carry(conn, up_to)
    removed = conn.execute(delete(_A).where(_A.c.seq <= up_to)).rowcount
    checkpoints = conn.execute(delete(_C).where(_C.c.tree_size < up_to)).rowcount
    details = {
        "first_seq": again.first_seq,
        "last_seq": up_to,
        "count": int(removed),
        "anchor": {"tree_size": up_to, "fingerprint": anchor.fingerprint, "signed": anchor.time},
        "period": chosen.period,
        "before": chosen.cutoff,
        "checkpoints_removed": int(checkpoints),
        "keys": keys,
    }
    return append(conn, Event(KIND, ACTOR, details=details, at=now))


_NO_RECORD = PruneRecord(0, "", 0, "", "", "", ())


def _record(seq: int, at: str, details: str) -> PruneRecord | None:
    try:
        parsed = json.loads(details)
        keys = tuple((int(k["seq"]), str(k["key_id"]), bytes.fromhex(k["public_key"])) for k in parsed["keys"])
        return PruneRecord(
            seq,
            at,
            int(parsed["last_seq"]),
            str(parsed["anchor"]["fingerprint"]),
            str(parsed["period"]),
            str(parsed["before"]),
            keys,
        )
    except (ValueError, KeyError, TypeError):
        return None  # an altered record: verification reports the entry itself


def records(conn: Connection) -> list[PruneRecord]:
    """Every prune record still on the trail, newest first (an unreadable one left out)."""
    rows = conn.execute(select(_A.c.seq, _A.c.at, _A.c.details).where(_A.c.kind == KIND).order_by(_A.c.seq.desc()))
    return [r for r in (_record(seq, at, details) for seq, at, details in rows) if r is not None]


def last_record(conn: Connection) -> PruneRecord | None:
    found = records(conn)
    return found[0] if found else None


def record_for(conn: Connection, first: int) -> PruneRecord | None:
    """The prune record that explains a trail starting at ``first``: the one that removed entries up to first - 1."""
    return next((r for r in records(conn) if r.up_to == first - 1), None)


@dataclass(frozen=True)
class Horizon:
    """Where a pruned trail begins now: the first entry held and its time, and the prune that cut before it."""

    first_seq: int
    first_at: str
    record: PruneRecord

    def describe(self) -> str:
        """In words for a reader outside Custos (a data subject, an authority): no seq, no hash."""
        return (
            f"The audit trail no longer holds events before {self.first_at[:10]}: its entries are kept for "
            f"{self.record.period} (ISO 8601) and older ones were removed on {self.record.at[:10]}."
        )


def horizon(conn: Connection) -> Horizon | None:
    """None for a trail kept from its start (or one whose start no recorded prune explains: verification says so)."""
    first = first_seq(conn)
    record = record_for(conn, first) if first > 1 else None
    if record is None:
        return None
    at = conn.execute(select(_A.c.at).where(_A.c.seq == first)).scalar()
    return Horizon(first, str(at), record)
