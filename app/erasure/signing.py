"""The key that signs erasure receipts: the audit trail's Ed25519 signing key (app.audit.checkpoints), so a
reviewer checks receipts and checkpoints against one published public key.

The key is obtained as the audit evidence bundle obtains it: a checkpoint is signed now (checkpoint_now makes
and announces the key on first use), and the private half is read by that checkpoint's key id. The receipt
names that checkpoint, which covers every erasure event of the request: the receipt is anchored in the trail.
Receipts carry their own ``format`` in the signed content, so a receipt signature can never pass for a
checkpoint signature or the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, select

from app.audit.checkpoints import Checkpoint, checkpoint_now
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


def signer(conn: Connection) -> tuple[Signer, Checkpoint]:
    """The audit signing key and a checkpoint signed with it now (in the caller's write transaction)."""
    checkpoint = checkpoint_now(conn)
    private = conn.execute(select(_K.c.private_key).where(_K.c.id == checkpoint.key_id)).scalar_one()
    return Signer(checkpoint.key_id, Ed25519PrivateKey.from_private_bytes(private)), checkpoint
