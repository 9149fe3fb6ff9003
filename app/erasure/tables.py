"""Tables of the erasure workflow: requests, the subjects they cover, one step per (subject, target), and every
HTTP exchange with a target as evidence.

Subjects appear here by pseudonym only. A step keeps the subject's local and remote ids just while it still has
to reach its target; they are cleared (and the target link dropped) once the step is resolved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base


class ErasureRequest(Base):
    __tablename__ = "erasure_requests"
    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # random: stays unique across backup restores
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operator: Mapped[str] = mapped_column(String(160))
    ground: Mapped[str] = mapped_column(String(32))  # a key of app.erasure.model.GROUNDS
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)  # the operator's note, no personal data
    origin: Mapped[str] = mapped_column(String(16))  # operator | retention | replay
    state: Mapped[str] = mapped_column(String(16))  # open | closed
    closed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    policy_stamp: Mapped[str] = mapped_column(String(100))
    local_facts: Mapped[str] = mapped_column(Text, default="{}")  # JSON: rows deleted, WAL truncated, vacuumed…


class ErasureSubject(Base):
    __tablename__ = "erasure_subjects"
    request_id: Mapped[str] = mapped_column(ForeignKey("erasure_requests.id"), primary_key=True)
    subject_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(16))
    rows_deleted: Mapped[int] = mapped_column(Integer, default=0)
    key_shredded: Mapped[bool] = mapped_column(Boolean, default=False)


class ErasureStep(Base):
    __tablename__ = "erasure_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("erasure_requests.id"))
    subject_no: Mapped[int] = mapped_column(Integer)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"), nullable=True)
    target_name: Mapped[str] = mapped_column(String(64))  # kept as evidence if the target is removed later
    # The policy recipient told by this step: a target's recipient, or (target_id None, erase_mode "recipient") a
    # recipient with no SCIM target, told by a person who then attests (Art. 19).
    recipient_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    erase_mode: Mapped[str] = mapped_column(String(16))  # delete | deactivate | manual
    resource_type: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # cleared once resolved
    remote_id: Mapped[str | None] = mapped_column(String(256), nullable=True)  # cleared once resolved
    state: Mapped[str] = mapped_column(String(24))  # see app.erasure.model.State
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)  # never holds personal data
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)  # verified | attested | absent
    # Attempts since the step was last queued: what the limit (MAX_ATTEMPTS) and the backoff count; an operator's
    # retry starts it afresh.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Every attempt ever made at the target, never reset: what the receipt and the trail state. One counter for
    # both undercounted: after a retry the receipt said 2 attempts beside exchanges holding 3 DELETEs.
    attempts_total: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # set once the DELETE was accepted
    requested: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_attempt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_attempt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the step reached a terminal state (erased, skipped, deprovisioned, needs an operator): the moment the
    # receipt and the status give for it, recorded then, never derived from the request or the print time.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attested_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    attested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attestation_note: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (
        Index("ix_erasure_steps_due", "state", "next_attempt"),
        Index("ix_erasure_steps_request", "request_id", "subject_no"),
    )


class ErasureExchange(Base):
    """One request to a target and what it answered: status and SHA-256 of the body, never the body."""

    __tablename__ = "erasure_exchanges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("erasure_steps.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    method: Mapped[str] = mapped_column(String(8))  # DELETE | GET | PATCH
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no answer (timeout, refused)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(String(120), nullable=True)

    __table_args__ = (Index("ix_erasure_exchanges_step", "step_id", "id"),)


class TombstoneKey(Base):
    """The key of the tombstones' HMACs: random, kept in the (encrypted) vault, one per vault."""

    __tablename__ = "erasure_tombstone_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ErasureTombstone(Base):
    """One identifier of an erased subject (its normalised externalId or userName) as an HMAC under the vault's
    tombstone key: never the value. A create or rename that matches an unreleased one is refused."""

    __tablename__ = "erasure_tombstones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(16))  # externalId | userName (the name, never the value)
    request_id: Mapped[str] = mapped_column(String(24))
    subject_no: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refused: Mapped[int] = mapped_column(Integer, default=0)  # re-creations refused so far
    last_refused: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    release_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (Index("ix_erasure_tombstones_digest", "digest"),)


class ErasureSource(Base):
    """Whether the source (the identity provider) still holds an erased subject: ``held`` until the IdP is seen
    removing it (DELETE) or blocking it (active false) on its old id, or an operator attests it was done there."""

    __tablename__ = "erasure_sources"
    request_id: Mapped[str] = mapped_column(ForeignKey("erasure_requests.id"), primary_key=True)
    subject_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    # HMAC of the subject's old SCIM id under the tombstone key (the id itself is erased): recognises the IdP's
    # DELETE or deactivation on that id; cleared once no longer held.
    id_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # held | removed | blocked | attested
    how: Mapped[str | None] = mapped_column(String(300), nullable=True)  # never holds personal data
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attested_by: Mapped[str | None] = mapped_column(String(160), nullable=True)

    __table_args__ = (Index("ix_erasure_sources_digest", "id_digest"),)
