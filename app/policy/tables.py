"""The policy's table: every version ever applied, in full (app/policy/versions.py reads and writes it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base


class PolicyVersion(Base):
    """Every policy version ever applied, in full: the newest row is the policy in force."""

    __tablename__ = "policy_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operator: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
