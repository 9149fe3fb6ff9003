"""Tables of SIEM forwarding: how far each collector has received the audit trail.

The trail itself is the spool: nothing is copied; a cursor per destination says up to which seq delivery
succeeded, so an offline collector loses nothing and gets everything in order when it is back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base


class SiemCursor(Base):
    __tablename__ = "siem_cursors"
    destination: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
