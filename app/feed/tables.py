"""Tables of the downstream targets: their configuration, the outbox of work, and what each target holds.

The outbox holds references only (resource type, id, operation), never a copy of personal data: what is sent
is read from the mirror at push time, mapped for that target. A subject erased meanwhile has nothing to send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base


class Target(Base):
    __tablename__ = "targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_url: Mapped[str] = mapped_column(String(512))
    recipient_id: Mapped[str] = mapped_column(String(64))  # the policy recipient whose attributes it receives
    auth_kind: Mapped[str] = mapped_column(String(16))  # bearer | oauth2 | none
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # bearer token or client secret; vault only
    oauth_token_url: Mapped[str | None] = mapped_column(String(512), nullable=True)
    oauth_client_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    oauth_scope: Mapped[str | None] = mapped_column(String(256), nullable=True)
    ca_file: Mapped[str | None] = mapped_column(String(512), nullable=True)
    pinned_sha256: Mapped[str | None] = mapped_column(String(95), nullable=True)
    renames: Mapped[str] = mapped_column(Text, default="{}")  # JSON: our attribute path -> the target's
    erase_mode: Mapped[str] = mapped_column(String(16), default="delete")  # delete | deactivate | manual
    max_concurrency: Mapped[int] = mapped_column(Integer, default=4)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # seconds the target has to answer a request (connecting: at most 5 of them); migration 0023
    timeout_seconds: Mapped[float] = mapped_column(Float, default=15.0, server_default="15")


class OutboxItem(Base):
    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    resource_type: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(String(36))
    operation: Mapped[str] = mapped_column(String(16))  # upsert | delete
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed | superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # never holds personal data

    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt", "seq"),
        Index("ix_outbox_subject", "target_id", "resource_id", "state", "seq"),
    )


class TargetLink(Base):
    """A subject held at a target: its id there, and which of our versions it last received."""

    __tablename__ = "target_links"
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # kept after a local delete until erased
    resource_type: Mapped[str] = mapped_column(String(16))
    remote_id: Mapped[str] = mapped_column(String(256))
    synced_version: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_target_links_resource", "resource_id"),)


class TargetCheck(Base):
    """One reconcile of a target: when it ran and what it found, as counts only (decision 0036).

    Kept so that "in sync" can be said only when a check against the target itself, run after the last push to it,
    found nothing; the reconcile's trail entry is written in the same transaction. No names, no values, no ids.
    """

    __tablename__ = "target_checks"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # before the target was read
    checked: Mapped[int] = mapped_column(Integer)  # accounts read at the target
    unknown: Mapped[int] = mapped_column(Integer)  # accounts at the target unknown to Custos
    missing: Mapped[int] = mapped_column(Integer)  # subjects missing at the target
    differing: Mapped[int] = mapped_column(Integer)  # accounts with differing attributes
    beyond: Mapped[int] = mapped_column(Integer)  # accounts holding attributes beyond the mapping
    repairable: Mapped[int] = mapped_column(Integer)  # distinct subjects a repair pushes
    repaired: Mapped[bool] = mapped_column(Boolean)  # the repair was queued with the check

    __table_args__ = (Index("ix_target_checks_target", "target_id", "seq"),)
