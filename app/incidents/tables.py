"""Tables of the breach register (Art. 33(5)): incidents, each with its separate times, and notifications.

Free text (description, reasoning) may be sensitive and stays here, in the encrypted vault; the audit trail
records only which fields changed and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
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
    # What supervisory authorities' forms ask beyond Art. 33(3) (migration 0012)
    subject_categories: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, Art. 33(3)(a)
    breach_types: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: confidentiality|integrity|availability
    cause: Mapped[str] = mapped_column(Text, default="")
    discovery: Mapped[str] = mapped_column(Text, default="")  # how it was discovered (when: detected_at)
    special_categories: Mapped[str | None] = mapped_column(String(8), nullable=True)  # yes | no | unknown
    authority: Mapped[str] = mapped_column(Text, default="")  # the supervisory authority notified
    cross_border: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    lead_authority: Mapped[str] = mapped_column(Text, default="")  # Art. 56 one-stop-shop, when cross-border
    other_authorities: Mapped[str] = mapped_column(Text, default="")  # police, CSIRT, other SAs…
    processor: Mapped[str] = mapped_column(Text, default="")  # the processor involved, if any
    processor_notified_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)  # Art. 33(2)
    subject_summary: Mapped[str] = mapped_column(Text, default="")  # Art. 34(2): the nature, in plain language
    subject_advice: Mapped[str] = mapped_column(Text, default="")  # Art. 34(2): what the person can do


class IncidentNotification(Base):
    """A notification to the supervisory authority: the initial one and each phased follow-up (Art. 33(4))."""

    __tablename__ = "incident_notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(TZ)
    kind: Mapped[str] = mapped_column(String(16))  # initial | follow-up
    reference: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")


class IncidentTime(Base):
    """Every value ever recorded for one of an incident's times: appended, never updated or deleted.

    The incident row holds the current value for quick reading; this table is the history that proves what was
    recorded first (the 72-hour clock runs from the earliest awareness) and every correction, with its reason.
    ``notification_id`` names the notification whose time an entry records (name ``notified``).
    """

    __tablename__ = "incident_times"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_notifications.id", ondelete="CASCADE"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(TZ)  # the value
    recorded_at: Mapped[datetime] = mapped_column(TZ)
    recorded_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")  # required for a correction; may be sensitive
