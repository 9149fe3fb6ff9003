"""Tables of the breach register (Art. 33(5)): incidents, each with its separate times, and notifications.

Free text (description, reasoning) may be sensitive and stays here, in the encrypted vault; the audit trail
records only which fields changed and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base

TZ = DateTime(timezone=True)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(80), default="manual")  # manual | alert:<rule>
    alert_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[datetime] = mapped_column(TZ)
    occurred_from: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    occurred_to: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    detected_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    investigation_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    aware_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)  # a human decision, never automatic
    aware_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    aware_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    contained_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    risk: Mapped[str | None] = mapped_column(String(16), nullable=True)  # none | risk | high_risk
    risk_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    risk_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    nature: Mapped[str] = mapped_column(Text, default="")  # Art. 33(3)(a)
    categories: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of data category names
    approx_subjects: Mapped[int | None] = mapped_column(Integer, nullable=True)  # operator-confirmed, approximate
    approx_records: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dpo_contact: Mapped[str] = mapped_column(Text, default="")  # Art. 33(3)(b)
    consequences: Mapped[str] = mapped_column(Text, default="")  # Art. 33(3)(c)
    measures: Mapped[str] = mapped_column(Text, default="")  # Art. 33(3)(d)
    delay_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # Art. 33(1), when notified late
    not_notified_rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    subjects_informed_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)  # Art. 34
    art34_exemption: Mapped[str | None] = mapped_column(String(4), nullable=True)  # a | b | c of Art. 34(3)
    art34_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)


class IncidentNotification(Base):
    """A notification to the supervisory authority: the initial one and each phased follow-up (Art. 33(4))."""

    __tablename__ = "incident_notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(TZ)
    kind: Mapped[str] = mapped_column(String(16))  # initial | follow-up
    reference: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
