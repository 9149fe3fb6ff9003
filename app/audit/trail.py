"""Appending to and reading the hash-chained audit trail.

An event is appended inside the caller's write transaction, so it commits (or rolls back) with the change it
records: the trail never claims a change that did not happen, nor misses one that did. The chain tail is read
inside that transaction, which SQLite serialises (BEGIN IMMEDIATE), so two processes writing to the same vault
still produce one unbroken chain.

Events carry no personal data: attribute names, counts, and subjects as keyed pseudonyms. Callers give the raw
SCIM id in ``Event.subject``; it is replaced here by HMAC-SHA256(per-subject key, id) (app.audit.pseudonyms),
so no caller pseudonymises by itself. Personal data needed for forensics goes in ``Event.private`` and is stored
as AES-256-GCM ciphertext under the subject's own key, in ``details["sealed"]``. ``details`` is checked for
obviously personal values (an e-mail address) before it is written, as a last line of defence.

Each entry is an RFC 9162 leaf: leaf_hash = SHA-256(0x00 || canonical JSON of the entry), and
chain_hash = SHA-256(previous chain_hash || leaf_hash). After appending, app.audit.checkpoints signs a tree
head when one is due (every 1,000 entries or 10 minutes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from app.audit import pseudonyms
from app.audit.tables import AuditEvent
from app.store.fastsql import FastStatement

GENESIS = "0" * 64
_A = AuditEvent.__table__
_TAIL = FastStatement(select(_A.c.seq, _A.c.chain_hash).order_by(_A.c.seq.desc()).limit(1))
_INSERT = FastStatement(insert(_A).values({column.name: bindparam(column.name) for column in _A.c}))
_EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[A-Za-z]{2,}")
_encode_string = json.encoder.encode_basestring  # json.dumps(ensure_ascii=False)'s
READ_SUBJECTS = "read_subjects"  # the details key of the pseudonyms a list read returned (Event.read_subjects)
# The details key of a request answered with the member lists of the groups its entry names (its subject, or its
# read_subjects): each member's id and name were read. Members are not listed (a group may hold 100,000): a breach's
# scope counts the groups' members as held now (app/incidents/scope.py).
MEMBERS_READ = "members_read"


@dataclass(frozen=True)
class Event:
    kind: str  # dotted, e.g. "scim.request.rejected", "policy.applied", "retention.purged"
    actor: str  # "token:<name>", "operator:<name>", "system:<job>"
    outcome: str = "success"  # success | failure
    subject: str | None = None  # the raw SCIM resource id: stored as the subject's pseudonym, never as given
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    private: dict[str, Any] | None = None  # personal data for forensics: stored encrypted under the subject's key
    # True for events that merely mention an id a client sent (a request): named only if the mirror holds it or
    # it is already keyed, so an unknown or erased id (a 404) is never keyed and stored afresh.
    subject_if_held: bool = False
    # The raw SCIM ids a list read (a filter, a page of a walk, a .search) returned: stored as their pseudonyms in
    # ``details[READ_SUBJECTS]`` (those held, as ``subject_if_held``), so that a breach's scope counts everyone an
    # attacker read through list queries, not only those read one by one.
    read_subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    at: str
    kind: str
    actor: str
    outcome: str
    subject: str | None  # the pseudonym
    details: dict[str, Any]  # with the ciphertext of the private part under "sealed", if any
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


def content_bytes(
    seq: int, at: str, kind: str, actor: str, outcome: str, subject: str | None, details_json: str
) -> bytes:
    """canonical(content) assembled from a stored row without parsing ``details`` (stored canonical already).

    The fast path of verification: a million entries are re-hashed in seconds. Equal to
    ``canonical(StoredEvent.content())`` for every row append() wrote; any other text in the row changes it.
    """
    encode = _encode_string
    subject_json = "null" if subject is None else encode(subject)
    return (
        f'{{"actor":{encode(actor)},"at":{encode(at)},"details":{details_json:s},"kind":{encode(kind)},'
        f'"outcome":{encode(outcome)},"seq":{seq:d},"subject":{subject_json}}}'
    ).encode()


def leaf_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(b"\x00" + canonical(content)).hexdigest()


def chain_hash(previous: str, leaf: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(leaf)).hexdigest()


def iso_utc(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime(_ISO_UTC)


def parse_utc(text: str) -> datetime:
    """An entry's stored time (:func:`iso_utc`'s form) as an aware UTC moment."""
    return datetime.strptime(text, _ISO_UTC).replace(tzinfo=UTC)


_ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"  # how every entry's time is stored: microseconds, always UTC


def holds_email_address(text: str) -> bool:
    """Whether the trail would refuse ``text`` in an entry's details as an e-mail address (checked up front by
    what puts operator-chosen names on the trail, such as token names)."""
    return _EMAIL.search(text) is not None


def _checked_details(details: dict[str, Any]) -> str:
    """The canonical JSON of ``details``, refused if it holds an e-mail address or the reserved sealed part."""
    text = canonical(details).decode()
    if _EMAIL.search(text):
        raise ValueError("audit details must not hold e-mail addresses")
    if pseudonyms.SEALED in details:
        raise ValueError(f"'{pseudonyms.SEALED}' is reserved in audit details: pass personal data as Event.private")
    if READ_SUBJECTS in details:
        raise ValueError(f"'{READ_SUBJECTS}' is reserved in audit details: pass the ids as Event.read_subjects")
    return text


def check(event: Event) -> None:
    """Raise ValueError when ``event`` could not be appended as it is (what append() refuses before writing)."""
    _checked_details(event.details)
    if event.private and (event.subject is None or event.subject_if_held):
        raise ValueError("a private audit detail needs a subject: it is encrypted under the subject's key")


def _subject_and_details(conn: Connection, seq: int, event: Event) -> tuple[str | None, dict[str, Any]]:
    subject, details = _subject_and_sealed(conn, seq, event)
    if event.read_subjects:
        details = {**details, READ_SUBJECTS: pseudonyms.held_pseudonyms(conn, event.read_subjects)}
    return subject, details


def _subject_and_sealed(conn: Connection, seq: int, event: Event) -> tuple[str | None, dict[str, Any]]:
    if event.subject is None:
        if event.private:
            raise ValueError("a private audit detail needs a subject: it is encrypted under the subject's key")
        return None, event.details
    if event.subject_if_held and not event.private:
        held = pseudonyms.held_subject_secrets(conn, event.subject)
        return (None if held is None else held.pseudonym), event.details
    secrets = pseudonyms.subject_secrets(conn, event.subject)
    if not event.private:
        return secrets.pseudonym, event.details
    sealed = pseudonyms.seal(secrets, seq, event.kind, event.private)
    return secrets.pseudonym, {**event.details, pseudonyms.SEALED: sealed}


def append(conn: Connection, event: Event) -> StoredEvent:
    """Append ``event`` in the caller's transaction; returns it with its sequence number and hashes."""
    return append_many(conn, (event,))[0]


def append_many(conn: Connection, events: Iterable[Event], *, checkpoint: bool = True) -> list[StoredEvent]:
    """Append several events in order with one tail read and one batched INSERT (the recorder's path).

    ``checkpoint=False`` skips the due-checkpoint check; only the checkpointer itself needs that.
    """
    tail = _TAIL.fetchone(conn)
    seq, previous = (int(tail[0]), str(tail[1])) if tail else (0, GENESIS)
    rows: list[dict[str, Any]] = []
    stored: list[StoredEvent] = []
    for event in events:
        details_json = _checked_details(event.details)
        seq += 1
        at = iso_utc(event.at or datetime.now(UTC))
        subject, details = _subject_and_details(conn, seq, event)
        if details is not event.details:  # the sealed private part was added
            details_json = canonical(details).decode()
        leaf = hashlib.sha256(
            b"\x00" + content_bytes(seq, at, event.kind, event.actor, event.outcome, subject, details_json)
        ).hexdigest()
        previous = chain_hash(previous, leaf)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "kind": event.kind,
                "actor": event.actor,
                "outcome": event.outcome,
                "subject": subject,
                "details": details_json,
                "leaf_hash": leaf,
                "chain_hash": previous,
            }
        )
        stored.append(StoredEvent(seq, at, event.kind, event.actor, event.outcome, subject, details, leaf, previous))
    if rows:
        _INSERT.execute_many(conn, rows)
        if checkpoint:
            _after_append(conn, seq)
    return stored


def _after_append(conn: Connection, size: int) -> None:
    from app.audit import checkpoints  # imported late: the checkpointer appends to the trail itself

    checkpoints.after_append(conn, size)


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


def newest_at(conn: Connection) -> str | None:
    """The stored time of the newest entry (None: an empty trail)."""
    return conn.execute(select(_A.c.at).order_by(_A.c.seq.desc()).limit(1)).scalar()
