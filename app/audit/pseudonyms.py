"""Subjects on the trail as keyed pseudonyms, their forensic detail as ciphertext, and crypto-shredding.

Each subject (a SCIM resource id) gets two random 256-bit keys on first mention, kept in ``subject_keys``
apart from the trail:
- the pseudonymisation key: the trail shows HMAC-SHA256(key, scim_id), stable for the subject's life; one key
  per subject (not one global key) so that erasing one person unlinks that person only (EDPB 01/2025);
- the detail key (DEK): personal data needed for forensics (an old and a new e-mail address…) is stored on the
  trail as AES-256-GCM ciphertext under it, and the Merkle leaf commits to the ciphertext.

:func:`shred_subject` writes a tombstone naming only the pseudonym, then deletes both keys. Afterwards the
pseudonym cannot be recomputed from the SCIM id and the detail cannot be decrypted, while every hash, proof and
signature of the trail still verifies (nothing on the trail changed).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, bindparam, delete, func, select

from app.audit.tables import SubjectKey
from app.core.errors import CustosError
from app.store.fastsql import FastStatement
from app.store.models import ScimResource

if TYPE_CHECKING:
    from app.audit.trail import StoredEvent

SEALED = "sealed"  # the reserved key of ``details`` that holds the ciphertext of the private part
SHREDDED_KIND = "subject.shredded"
_ALGORITHM = "A256GCM"
_K = SubjectKey.__table__


class SealedDetailBroken(CustosError):
    """A sealed detail whose key exists but which does not authenticate: it was altered."""

    def __init__(self) -> None:
        super().__init__("An encrypted audit detail does not authenticate: it was altered after it was written.")


@dataclass(frozen=True)
class SubjectSecrets:
    pseudonym: str
    detail_key: bytes


def compute_pseudonym(key: bytes, scim_id: str) -> str:
    mac = crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(scim_id.encode("utf-8"))
    return mac.finalize().hex()


# On the first mention of every subject (each create): through Connection.execute it cost more than the HMAC.
_INSERT_KEY = FastStatement.insert_into(_K)
_LOOKUP = FastStatement(
    select(_K.c.pseudonym, _K.c.pseudonym_key, _K.c.detail_key).where(_K.c.resource_id == bindparam("scim_id"))
)


def _lookup(conn: Connection, scim_id: str) -> Any:
    """(pseudonym, pseudonym key, detail key) or None: on every append that names a subject, so kept fast."""
    return _LOOKUP.fetchone(conn, {"scim_id": scim_id})


def subject_secrets(conn: Connection, scim_id: str) -> SubjectSecrets:
    """The subject's pseudonym and detail key, created on first mention (inside the caller's transaction)."""
    row = _lookup(conn, scim_id)
    if row is not None:
        return SubjectSecrets(row[0], bytes(row[2]))
    pseudonym_key, detail_key = os.urandom(32), os.urandom(32)
    pseudonym = compute_pseudonym(pseudonym_key, scim_id)
    _INSERT_KEY.execute(
        conn,
        {
            "resource_id": scim_id,
            "pseudonym": pseudonym,
            "pseudonym_key": pseudonym_key,
            "detail_key": detail_key,
            "created": datetime.now(UTC),
        },
    )
    return SubjectSecrets(pseudonym, detail_key)


_HELD = FastStatement(select(ScimResource.__table__.c.id).where(ScimResource.__table__.c.id == bindparam("scim_id")))


def held_subject_secrets(conn: Connection, scim_id: str) -> SubjectSecrets | None:
    """Like :func:`subject_secrets`, but a key is made only for an id the mirror holds: a request naming an id
    that was never stored, or whose subject was erased (a 404), must not leave that id in ``subject_keys``."""
    row = _lookup(conn, scim_id)
    if row is not None:
        return SubjectSecrets(row[0], bytes(row[2]))
    if _HELD.fetchone(conn, {"scim_id": scim_id}) is None:
        return None
    return subject_secrets(conn, scim_id)


# The pseudonyms of a page of ids, the ids bound as one JSON array: a statement compiled once whatever the page's
# size (an IN list of 100 parameters cost SQLAlchemy more per page read than SQLite spent on it).
_GIVEN = func.json_each(bindparam("ids")).table_valued("value")
_LOOKUP_MANY = FastStatement(
    select(_K.c.resource_id, _K.c.pseudonym).where(_K.c.resource_id.in_(select(_GIVEN.c.value)))
)


def held_pseudonyms(conn: Connection, scim_ids: tuple[str, ...]) -> list[str]:
    """The pseudonyms of the ids a list read returned, in their order: one lookup for the page (a subject keyed
    already, as everyone created through SCIM is), :func:`held_subject_secrets` only for the rest; an id no
    longer held (erased meanwhile) is left out, as a read by id of it would be."""
    known = {str(row[0]): str(row[1]) for row in _LOOKUP_MANY.all(conn, {"ids": json.dumps(scim_ids)})}
    found: list[str] = []
    for scim_id in dict.fromkeys(scim_ids):
        pseudonym = known.get(scim_id)
        if pseudonym is None and (held := held_subject_secrets(conn, scim_id)) is not None:
            pseudonym = held.pseudonym
        if pseudonym is not None:
            found.append(pseudonym)
    return found


def pseudonym_for(conn: Connection, scim_id: str) -> str | None:
    """The subject's pseudonym as it appears on the trail, recomputed from its key; None once shredded."""
    row = _lookup(conn, scim_id)
    return None if row is None else compute_pseudonym(bytes(row[1]), scim_id)


def _aad(seq: int, kind: str, pseudonym: str) -> bytes:
    """Binds a ciphertext to its entry: it cannot be moved to another entry or subject and still decrypt."""
    return json.dumps({"kind": kind, "seq": seq, "subject": pseudonym}, sort_keys=True, separators=(",", ":")).encode()


def seal(secrets: SubjectSecrets, seq: int, kind: str, private: dict[str, Any]) -> dict[str, str]:
    nonce = os.urandom(12)
    plaintext = json.dumps(private, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ciphertext = AESGCM(secrets.detail_key).encrypt(nonce, plaintext, _aad(seq, kind, secrets.pseudonym))
    return {
        "alg": _ALGORITHM,
        "nonce": base64.b64encode(nonce).decode(),
        "ct": base64.b64encode(ciphertext).decode(),
    }


def decrypt_private(conn: Connection, event: StoredEvent) -> dict[str, Any] | None:
    """The private part of ``event`` in clear; None when it has none or its subject was shredded."""
    sealed = event.details.get(SEALED)
    if not isinstance(sealed, dict) or event.subject is None:
        return None
    key = conn.execute(select(_K.c.detail_key).where(_K.c.pseudonym == event.subject)).scalar()
    if key is None:
        return None
    try:
        nonce, ciphertext = base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ct"])
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _aad(event.seq, event.kind, event.subject))
    except (InvalidTag, KeyError, TypeError, ValueError) as exc:
        raise SealedDetailBroken() from exc
    value: dict[str, Any] = json.loads(plaintext)
    return value


def public_details(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` without the sealed part: what may be shown or forwarded."""
    return {name: value for name, value in details.items() if name != SEALED}


def shred_subject(
    conn: Connection, scim_id: str, *, actor: str | None = None, details: dict[str, Any] | None = None
) -> StoredEvent | None:
    """Crypto-shred a subject: a tombstone with the pseudonym only, then both keys deleted.

    Runs in the caller's write transaction. ``secure_delete`` (always on in the vault) zeroes the freed cells;
    the caller checkpoints the WAL after commit (app.store.engine.checkpoint) so no copy of the keys survives
    there. Returns the tombstone, or None when the subject never appeared on the trail (nothing to shred).
    """
    from app.audit.trail import Event, append
    from app.core.actor import current_actor

    if _lookup(conn, scim_id) is None:
        return None
    record = {**(details or {}), "destroyed": ["pseudonym_key", "detail_key"]}
    tombstone = append(conn, Event(SHREDDED_KIND, actor or current_actor.get(), subject=scim_id, details=record))
    conn.execute(delete(_K).where(_K.c.resource_id == scim_id))
    return tombstone
