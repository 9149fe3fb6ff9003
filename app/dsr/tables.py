"""Tables of the data-subject-request register.

The skeleton (rights asked, dates, channel, states, outcome, the subject's pseudonym) is plain so that it stays
provable for the register's retention period. Everything a person wrote or that describes the requester (name,
representative, where to answer, notes, reasoning) is one AES-256-GCM blob in ``sealed``, under the subject's
detail key (app.audit.pseudonyms) when the request is matched to a subject, else under a key of the request's
own (``dsr_keys``). Erasing the subject destroys the key and so the blob; the skeleton stays.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base

TZ = DateTime(timezone=True)


class DsrRequest(Base):
    __tablename__ = "dsr_requests"
    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # dsr-<16 hex>, random
    rights: Mapped[str] = mapped_column(Text)  # JSON list of app.dsr.model.RIGHTS keys
    received: Mapped[datetime] = mapped_column(TZ)  # UTC
    zone: Mapped[str] = mapped_column(String(64))  # the controller's time zone the dates are counted in
    country: Mapped[str] = mapped_column(String(8))  # whose public holidays count ("" = weekends only)
    subdivision: Mapped[str] = mapped_column(String(16))
    due: Mapped[date] = mapped_column(Date)  # one month after receipt (Art. 12(3))
    extended_months: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1 or 2 further months
    extended_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    extension_told: Mapped[date | None] = mapped_column(Date, nullable=True)  # when the person was told
    channel: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(16))  # subject | representative
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the matched subject's pseudonym
    matches: Mapped[int] = mapped_column(Integer, default=0)  # identities that matched at intake
    verification: Mapped[str] = mapped_column(String(16))  # not_needed | requested | verified | failed
    verification_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    # Art. 12(6): the day more information about the identity was asked for while it is awaited (the clock stands
    # still), and the days the clock stood still in earlier waits, added to the period (``due`` includes them).
    paused_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))  # see app.dsr.model.STATES
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)  # see app.dsr.model.OUTCOMES
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the day the answer was sent
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)  # Art. 18 flag in force
    created: Mapped[datetime] = mapped_column(TZ)
    closed: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    operator: Mapped[str] = mapped_column(String(160))
    key_ref: Mapped[str] = mapped_column(String(8))  # subject | request: whose key seals the blob
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON {alg, nonce, ct}
    alerts: Mapped[str] = mapped_column(Text, default="")  # deadline alerts sent: "7d:2026-03-02 1d:…"

    __table_args__ = (Index("ix_dsr_requests_state_due", "state", "due"), Index("ix_dsr_requests_subject", "subject"))


class DsrStep(Base):
    """One right asked for, with what was done about it: an outcome is what the request needs to close."""

    __tablename__ = "dsr_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsr_requests.id", ondelete="CASCADE"))
    right: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))  # pending | started | done | refused | not_applicable
    ground: Mapped[str | None] = mapped_column(String(16), nullable=True)  # refusal ground
    link_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # export | erasure
    link_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # erasure request id, export hash
    done_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(160), nullable=True)

    __table_args__ = (Index("ix_dsr_steps_request", "request_id"),)


class DsrAttachment(Base):
    """A file produced for the request (export, receipt, answer letter) by name and SHA-256, never its content."""

    __tablename__ = "dsr_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsr_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # export.json | export.pdf | receipt.json | letter.md …
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TZ)

    __table_args__ = (Index("ix_dsr_attachments_request", "request_id"),)


class DsrKey(Base):
    """The sealing key of a request that has no subject key to use (unmatched, or the subject erased by it)."""

    __tablename__ = "dsr_keys"
    request_id: Mapped[str] = mapped_column(ForeignKey("dsr_requests.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
