"""Sealing a request's personal detail under the subject's key (or the request's own), and opening it again.

The subject's detail key is the one the audit trail seals forensic detail with (app.audit.pseudonyms), found by
the pseudonym the request stores: when the subject is erased that key is destroyed and the blob can no longer
be opened, while the request's skeleton stays. AES-256-GCM, bound to the request id so a blob cannot be moved.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, insert, select

from app.audit.tables import SubjectKey
from app.core.errors import CustosError
from app.dsr.tables import DsrKey

_K = SubjectKey.__table__
_DK = DsrKey.__table__
ALGORITHM = "A256GCM"


class DetailsShredded(CustosError):
    def __init__(self) -> None:
        super().__init__("The requester's details of this request were crypto-shredded (the subject was erased).")


def _aad(request_id: str) -> bytes:
    return f"custos-dsr:{request_id}".encode()


def key_for(conn: Connection, request_id: str, key_ref: str, subject: str | None) -> bytes | None:
    """The sealing key, or None once it was destroyed."""
    if key_ref == "subject" and subject:
        found = conn.execute(select(_K.c.detail_key).where(_K.c.pseudonym == subject)).scalar()
    else:
        found = conn.execute(select(_DK.c.key).where(_DK.c.request_id == request_id)).scalar()
    return bytes(found) if found is not None else None


def new_request_key(conn: Connection, request_id: str, key: bytes | None = None) -> bytes:
    """Store a (new) key of the request's own; the request row must exist already."""
    key = key or os.urandom(32)
    conn.execute(delete(_DK).where(_DK.c.request_id == request_id))
    conn.execute(insert(_DK).values(request_id=request_id, key=key))
    return key


def drop_request_key(conn: Connection, request_id: str) -> None:
    conn.execute(delete(_DK).where(_DK.c.request_id == request_id))


def seal(key: bytes, request_id: str, private: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    plaintext = json.dumps(private, sort_keys=True, ensure_ascii=False).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(request_id))
    return json.dumps({"alg": ALGORITHM, "nonce": base64.b64encode(nonce).decode(),
                       "ct": base64.b64encode(ciphertext).decode()})  # fmt: skip


def open_sealed(key: bytes | None, request_id: str, sealed: str | None) -> dict[str, Any] | None:
    """The private part in clear; {} when nothing was sealed; None when the key is gone (shredded)."""
    if not sealed:
        return {}
    if key is None:
        return None
    blob = json.loads(sealed)
    try:
        plaintext = AESGCM(key).decrypt(base64.b64decode(blob["nonce"]), base64.b64decode(blob["ct"]),
                                        _aad(request_id))  # fmt: skip
    except (InvalidTag, KeyError, ValueError) as exc:
        raise CustosError("The sealed details of a request do not authenticate: they were altered.") from exc
    value: dict[str, Any] = json.loads(plaintext)
    return value
