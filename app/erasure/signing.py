"""The key that signs erasure receipts: the audit trail's Ed25519 signing key (app.audit.checkpoints), so a
reviewer checks receipts and checkpoints against one published public key. Receipts carry their own ``format``
in the signed content, so a receipt signature can never pass for a checkpoint signature or the reverse.

TEMPORARY: reads the audit signing-key table until app.audit.checkpoints exposes its loader.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, select

from app.audit.tables import SigningKey

_K = SigningKey.__table__


@dataclass(frozen=True)
class Signer:
    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def signer(conn: Connection) -> Signer:
    row = conn.execute(select(_K.c.id, _K.c.private_key).order_by(_K.c.created.desc()).limit(1)).first()
    if row is not None:
        return Signer(row.id, Ed25519PrivateKey.from_private_bytes(row.private_key))
    private = Ed25519PrivateKey.generate()
    made = Signer("", private)
    key_id = hashlib.sha256(made.public_key).hexdigest()[:16]
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    conn.execute(
        insert(_K), {"id": key_id, "created": datetime.now(UTC), "private_key": raw, "public_key": made.public_key}
    )
    return Signer(key_id, private)
