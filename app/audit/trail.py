"""Appending to and reading the hash-chained audit trail.

An event is appended inside the caller's write transaction, so it commits (or rolls back) with the change it
records: the trail never claims a change that did not happen, nor misses one that did. The chain tail is read
inside that transaction, which SQLite serialises (BEGIN IMMEDIATE), so two processes writing to the same vault
still produce one unbroken chain.

Events carry no personal data: attribute names, counts and pseudonymous resource ids only. ``details`` is
checked for obviously personal values (an e-mail address) before it is written, as a last line of defence.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from app.store.models import AuditEvent

GENESIS = "0" * 64
_A = AuditEvent.__table__
_TAIL = select(_A.c.seq, _A.c.chain_hash).order_by(_A.c.seq.desc()).limit(1)
_INSERT = insert(_A)
_EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class Event:
    kind: str  # dotted, e.g. "scim.request.rejected", "policy.applied", "retention.purged"
    actor: str  # "token:<name>", "operator:<name>", "system:<job>"
    outcome: str = "success"  # success | failure
    subject: str | None = None  # a pseudonymous resource id, never a name or address
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    at: str
    kind: str
    actor: str
    outcome: str
    subject: str | None
    details: dict[str, Any]
    leaf_hash: str
    chain_hash: str

    def content(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "outcome": self.outcome,
            "subject": self.subject,
            "details": self.details,
        }


def canonical(value: Any) -> bytes:
    """Deterministic JSON (sorted keys, no spaces, UTF-8): the bytes that are hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(b"\x00" + canonical(content)).hexdigest()


def chain_hash(previous: str, leaf: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(leaf)).hexdigest()


def iso_utc(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _refuse_personal_data(details: dict[str, Any]) -> None:
    if _EMAIL.search(canonical(details).decode()):
        raise ValueError("audit details must not hold e-mail addresses")


def append(conn: Connection, event: Event) -> StoredEvent:
    """Append ``event`` in the caller's transaction; returns it with its sequence number and hashes."""
    _refuse_personal_data(event.details)
    tail = conn.execute(_TAIL).first()
    seq, previous = (tail.seq + 1, tail.chain_hash) if tail else (1, GENESIS)
    at = iso_utc(event.at or datetime.now(UTC))
    content = {
        "seq": seq,
        "at": at,
        "kind": event.kind,
        "actor": event.actor,
        "outcome": event.outcome,
        "subject": event.subject,
        "details": event.details,
    }
    leaf = leaf_hash(content)
    chained = chain_hash(previous, leaf)
    conn.execute(
        _INSERT,
        {
            "seq": seq,
            "at": at,
            "kind": event.kind,
            "actor": event.actor,
            "outcome": event.outcome,
            "subject": event.subject,
            "details": canonical(event.details).decode(),
            "leaf_hash": leaf,
            "chain_hash": chained,
        },
    )
    return StoredEvent(seq, at, event.kind, event.actor, event.outcome, event.subject, event.details, leaf, chained)


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        row.seq,
        row.at,
        row.kind,
        row.actor,
        row.outcome,
        row.subject,
        json.loads(row.details),
        row.leaf_hash,
        row.chain_hash,
    )


_RANGE = select(_A).where(_A.c.seq >= bindparam("start")).order_by(_A.c.seq).limit(bindparam("n"))


def read(conn: Connection, start: int = 1, batch: int = 1000) -> Iterator[StoredEvent]:
    """Every event from ``start`` on, in order, fetched in batches."""
    while True:
        rows = conn.execute(_RANGE, {"start": start, "n": batch}).fetchall()
        for row in rows:
            yield _stored(row)
        if len(rows) < batch:
            return
        start = rows[-1].seq + 1


def of_kind(conn: Connection, kind_prefix: str, limit: int = 1000) -> list[StoredEvent]:
    """The newest events whose kind starts with ``kind_prefix`` (newest first)."""
    statement = (
        select(_A).where(_A.c.kind.startswith(kind_prefix, autoescape=True)).order_by(_A.c.seq.desc()).limit(limit)
    )
    return [_stored(row) for row in conn.execute(statement)]
