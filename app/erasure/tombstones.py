"""Tombstones: an erasure lasts. The IdP that sent a person once will send them again (a nightly full sync, a
re-assignment); without a memory of the erasure Custos would re-create them and provision every target again.

For each erased subject, its IdP identifiers (normalised ``externalId`` and ``userName``) are kept as
HMAC-SHA256 under a random key held in the vault (``erasure_tombstone_key``): no plaintext, and without the
vault's key nobody can test a guessed name against them. Every create and rename of a User is checked; a match
with an unreleased tombstone is refused (app/scim/service.py) and goes on the trail, where the alert rules pick
it up. An operator releases a tombstone (a rehire) naming who and why (``custos erase release``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.directory.errors import ScimError
from app.directory.identity_strings import lookup_key
from app.erasure.tables import ErasureTombstone, TombstoneKey
from app.store.change_watch import cached

_K = TombstoneKey.__table__
_T = ErasureTombstone.__table__
_LABEL = b"custos/erasure-tombstone/v1/"
FIELDS = ("externalId", "userName")
REFUSED_KIND = "erasure.recreation.refused"
RELEASED_KIND = "erasure.tombstone.released"


def normalise(field: str, value: object) -> str | None:
    """The form compared: ``userName`` by the key its uniqueness is judged by (PRECIS, RFC 8264/8266, case-folded:
    app/directory/identity_strings.py), so a tombstone refuses exactly the names the mirror would call the same;
    ``externalId`` NFC and trimmed, case-exact (caseExact true in RFC 7643 §3.1)."""
    if not isinstance(value, str) or not value.strip():
        return None
    if field == "userName":
        return lookup_key(value) or None
    return unicodedata.normalize("NFC", value).strip()


def _key(conn: Connection) -> bytes:
    key = cached(
        conn, "erasure_tombstone_key", "key", lambda: conn.execute(select(_K.c.key).where(_K.c.id == 1)).scalar()
    )
    if key is None:
        key = os.urandom(32)
        conn.execute(insert(_K).values(id=1, key=key, created=datetime.now(UTC)))
    return bytes(key)


def identifiers(document: dict[str, Any]) -> dict[str, str]:
    """The document's IdP identifiers, normalised, by field name (those it has)."""
    found = {}
    for field in FIELDS:
        value = next((v for k, v in document.items() if k.lower() == field.lower()), None)
        normalised = normalise(field, value)
        if normalised is not None:
            found[field] = normalised
    return found


def _digest(key: bytes, field: str, value: str) -> str:
    return hmac.new(key, _LABEL + field.encode() + b":" + value.encode("utf-8"), hashlib.sha256).hexdigest()


def id_digest(conn: Connection, resource_id: str) -> str:
    """An erased subject's old SCIM id, keyed: recognises a later request on that id without keeping it."""
    return _digest(_key(conn), "id", resource_id)


def digests(conn: Connection, document: dict[str, Any]) -> dict[str, str]:
    key = _key(conn)
    return {field: _digest(key, field, value) for field, value in identifiers(document).items()}


def record(conn: Connection, request_id: str, subject_no: int, document: dict[str, Any], now: datetime) -> int:
    """Tombstones for one erased subject, in the erasure's transaction; returns how many (0 to 2)."""
    rows = [
        {"digest": digest, "field": field, "request_id": request_id, "subject_no": subject_no, "created": now}
        for field, digest in digests(conn, document).items()
    ]
    if rows:
        conn.execute(insert(_T), [{**row, "refused": 0} for row in rows])
    return len(rows)


@dataclass(frozen=True)
class Match:
    request_id: str
    fields: tuple[str, ...]  # which identifiers matched (names only)
    tombstone_ids: tuple[int, ...]


class ErasedSubjectReturned(ScimError):
    """A create or rename naming an erased subject: 409 uniqueness (RFC 7644 §3.12: values "already in use or
    reserved"). The detail tells the IdP's administrator what to do; it never repeats a value."""

    def __init__(self, match: Match, operation: str, document: dict[str, Any] | None = None) -> None:
        fields = " and ".join(match.fields)
        verb = "belong" if len(match.fields) > 1 else "belongs"
        # A create makes no account; a rename (PUT, PATCH) leaves the existing account as it was.
        outcome = (
            "the account was not created"
            if operation == "create"
            else "the change was not made (the account keeps its current values)"
        )
        super().__init__(
            409,
            f"This User's {fields} {verb} to a person erased from Custos at the controller's request (GDPR Art. 17); "
            f"{outcome}. Remove or block this person in the identity provider (unassign them from "
            "this application). If they have returned legitimately (a rehire), the Custos operator must release the "
            "erasure first (custos erase release).",
            "uniqueness",
        )
        self.match = match
        self.operation = operation
        # A create of the person, not as blocked: the identity provider still holds them (app/erasure/source.py)
        self.resent_active = operation == "create" and not _inactive(document)
        self.event_details = {"operation": operation, "request": match.request_id, "matched": list(match.fields)}


# Built once: every create of a User asks, and building the statement cost more than the cached answer it guards.
_ANY_UNRELEASED = select(_T.c.id).where(_T.c.released.is_(None)).limit(1)


def _any_unreleased(conn: Connection) -> bool:
    """Whether any tombstone blocks anyone; cached on the one write connection until the table changes."""
    return bool(
        cached(conn, "erasure_tombstones", "any-unreleased", lambda: conn.execute(_ANY_UNRELEASED).first() is not None)
    )


def find(conn: Connection, document: dict[str, Any], previous: dict[str, Any] | None = None) -> Match | None:
    """An unreleased tombstone matching the document's identifiers; with ``previous`` (a rename), only the
    identifiers that change are checked (an existing account keeps working)."""
    if not _any_unreleased(conn):
        return None  # nobody is blocked: no identifier to normalise and hash (every create asks)
    wanted = digests(conn, document)
    if previous is not None:
        before = identifiers(previous)
        now = identifiers(document)
        wanted = {field: digest for field, digest in wanted.items() if before.get(field) != now.get(field)}
    if not wanted:
        return None
    rows = conn.execute(
        select(_T.c.id, _T.c.field, _T.c.request_id)
        .where(_T.c.digest.in_(list(wanted.values())), _T.c.released.is_(None))
        .order_by(_T.c.id.desc())
    ).all()
    rows = [row for row in rows if wanted.get(row.field) is not None]
    if not rows:
        return None
    request_id = rows[0].request_id
    fields = tuple(field for field in FIELDS if any(r.field == field and r.request_id == request_id for r in rows))
    return Match(request_id, fields, tuple(r.id for r in rows if r.request_id == request_id))


def _inactive(document: dict[str, Any] | None) -> bool:
    """``active`` sent as false (a blocked person), in any case of the name, as a boolean or a string."""
    items = document.items() if isinstance(document, dict) else ()
    return any(str(k).lower() == "active" and v in (False, "false", "False") for k, v in items)


def check(conn: Connection, operation: str, document: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
    match = find(conn, document, previous)
    if match is not None:
        raise ErasedSubjectReturned(match, operation, document)


def record_refusal(conn: Connection, refusal: ErasedSubjectReturned, actor: str, now: datetime | None = None) -> None:
    """After the refused write rolled back: count it on the tombstones and put it on the trail (the alert rule
    ``erased_subject_returned`` reads it there)."""
    moment = now or datetime.now(UTC)
    ids = list(refusal.match.tombstone_ids)
    conn.execute(update(_T).where(_T.c.id.in_(ids)).values(last_refused=moment))
    # Counted once per refusal (on one of the subject's rows), however many identifiers matched.
    conn.execute(update(_T).where(_T.c.id == min(ids)).values(refused=_T.c.refused + 1))
    append(conn, Event(REFUSED_KIND, actor, "failure", details=refusal.event_details))


def release(
    conn: Connection,
    user_name: str | None,
    external_id: str | None,
    operator: str,
    reason: str,
    now: datetime | None = None,
) -> list[str]:
    """Release the tombstones matching the identifiers given (a rehire); returns the erasure requests they came
    from. The identifiers are hashed and dropped: neither they nor the reason goes on the trail."""
    document = {"userName": user_name, "externalId": external_id}
    wanted = digests(conn, document)
    if not wanted:
        raise ConfigError("Give the --user-name and/or --external-id the identity provider sends for this person.")
    moment = now or datetime.now(UTC)
    rows = conn.execute(
        select(_T.c.id, _T.c.field, _T.c.request_id, _T.c.subject_no).where(
            _T.c.digest.in_(list(wanted.values())), _T.c.released.is_(None)
        )
    ).all()
    rows = [row for row in rows if row.field in wanted]
    if not rows:
        raise ConfigError("No erased person with these identifiers is blocked; nothing was released.")
    # Release the whole subject (both identifiers), not only the one typed: a rehire comes back with both.
    subjects = {(row.request_id, row.subject_no) for row in rows}
    released = 0
    for request_id, subject_no in sorted(subjects):
        released += conn.execute(
            update(_T)
            .where(_T.c.request_id == request_id, _T.c.subject_no == subject_no, _T.c.released.is_(None))
            .values(released=moment, released_by=operator[:160], release_reason=reason)
        ).rowcount
    requests = sorted({request_id for request_id, _ in subjects})
    # The reason is free text an operator typed (it may name the person: "rehired as ..."): it stays in the
    # encrypted tombstone row and the receipt, as attestation notes do; the trail, which a SIEM ingests, is told
    # only that one was given.
    details = {"requests": requests, "subjects": len(subjects), "tombstones": released, "reason_recorded": True}
    actor = operator if ":" in operator else f"operator:{operator}"
    append(conn, Event(RELEASED_KIND, actor, details=details, at=moment))
    return requests


@dataclass(frozen=True)
class TombstoneState:
    request_id: str
    subject_no: int
    fields: tuple[str, ...]
    refused: int
    last_refused: datetime | None
    released: datetime | None
    released_by: str | None
    release_reason: str | None


def of_request(conn: Connection, request_id: str) -> dict[int, TombstoneState]:
    """Per subject number of a request: what its tombstones block and whether they were released."""
    rows = conn.execute(select(_T).where(_T.c.request_id == request_id).order_by(_T.c.subject_no, _T.c.id)).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.subject_no, []).append(row)
    return {number: _state(request_id, number, items) for number, items in grouped.items()}


def _state(request_id: str, subject_no: int, rows: list[Any]) -> TombstoneState:
    refused_times = [row.last_refused for row in rows if row.last_refused is not None]
    released = next((row for row in rows if row.released is not None), None)
    return TombstoneState(
        request_id,
        subject_no,
        tuple(row.field for row in rows),
        sum(row.refused for row in rows),
        max(refused_times) if refused_times else None,
        released.released if released else None,
        released.released_by if released else None,
        released.release_reason if released else None,
    )


def refused_recently(conn: Connection, limit: int = 20) -> list[TombstoneState]:
    """Erased subjects the IdP tried to send again (newest first), for the app's Overview."""
    rows = conn.execute(select(_T).where(_T.c.refused > 0).order_by(_T.c.last_refused.desc(), _T.c.id.desc())).all()
    grouped: dict[tuple[str, int], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row.request_id, row.subject_no), []).append(row)
    states = [_state(request_id, number, items) for (request_id, number), items in grouped.items()]
    return states[:limit]


# Words of a note: what could be an identifier (a login, an employee number), split at spaces and punctuation
# that identifiers do not contain.
_WORD = re.compile(r"[^\s,;:()\[\]<>\"'`]+")


# What may close a sentence or join a word to its label ("deprovisioned HR-99812.", "user=jdoe"): an identifier may
# hold these inside it, so a word is tried whole as well as without them.
_EDGE = ".!?"
_JOIN = re.compile(r"[=/|]")


def _candidates(word: str) -> list[str]:
    """The word, and its forms without sentence punctuation at its ends or a label joined to it."""
    forms = [word, word.strip(_EDGE)]
    forms += [piece.strip(_EDGE) for piece in _JOIN.split(word)]
    return [form for form in dict.fromkeys(forms) if form]


def named_in_note(conn: Connection, request_id: str, note: str) -> bool:
    """Whether a note about an erasure holds one of that request's erased identifiers (userName, externalId).

    Once erased, the person's values are gone; only their keyed digests remain (the tombstones). Each word of the
    note is hashed as each identifier would be and compared with the request's own digests, so an attestation or
    a release cannot write back the identifier the erasure removed (its note outlives it on the receipt)."""
    wanted = {(row.field, row.digest) for row in conn.execute(
        select(_T.c.field, _T.c.digest).where(_T.c.request_id == request_id))}  # fmt: skip
    if not wanted:
        return False
    key = _key(conn)
    for word in dict.fromkeys(candidate for found in _WORD.findall(note) for candidate in _candidates(found)):
        for field in FIELDS:
            normalised = normalise(field, word)
            if normalised is not None and (field, _digest(key, field, normalised)) in wanted:
                return True
    return False
