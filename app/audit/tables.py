"""Tables of the audit trail: the events themselves and the integrity layer (checkpoints, keys); app/audit/trail.py
writes and reads the events.

The keys live in the vault, so they are protected with it (SQLCipher encrypts every page). They are kept out
of ``audit_events`` on purpose: the trail itself holds only pseudonyms and ciphertext, and destroying a
subject's row here (crypto-shredding) leaves every hash of the trail intact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base


class SubjectKey(Base):
    """Per-subject secrets: the pseudonymisation key and the key of the subject's encrypted details.

    ``resource_id`` is the additional information of Art. 4(5): it links the pseudonym to the person and is
    deleted (with ``secure_delete`` on) when the subject is erased.
    """

    __tablename__ = "subject_keys"
    resource_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    pseudonym_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    detail_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SigningKey(Base):
    """An Ed25519 key that signs checkpoints; ``id`` is the first 16 hex digits of SHA-256(public key)."""

    __tablename__ = "signing_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    private_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed tree head: the trail's first ``tree_size`` entries have this Merkle root and chain hash.

    ``frontier`` (the right-edge subtree roots) is derived data, not signed: it lets the next checkpoint read
    only the entries appended since this one.
    """

    __tablename__ = "audit_checkpoints"
    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    time: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, exactly as signed
    log_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
    frontier: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    """The audit trail: append-only, hash-chained (each row commits to every row before it).

    ``leaf_hash`` is SHA-256(0x00 || canonical JSON of the event), an RFC 9162 Merkle leaf, and ``chain_hash``
    is SHA-256(previous chain_hash || leaf_hash). ``details`` never holds personal data or secrets: attribute
    names, counts, pseudonymous resource ids.
    """

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC with microseconds, part of the hashed content
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(160))
    outcome: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_kind_seq", "kind", "seq"),)
