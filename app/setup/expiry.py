"""What the expiry warnings share (decisions 0057, 0058): levels of time left, their words, and the alerts on the
trail that say each level once.

A credential an identity provider depends on — a SCIM token, the endpoint's TLS certificate — stops the provisioning
the moment it expires, and nothing on Custos' side errors. Each warning level is an ``alert.raised`` entry (its
rule, what expires, when, the hours left, the level's marker; never a secret), so the SIEM gets it with the other
alerts. What was raised is read back from the trail itself: a handful of alert entries, no column to keep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from app.audit.tables import AuditEvent
from app.audit.trail import Event, append, iso_utc
from app.siem.alerts import ACTOR, KIND

_A = AuditEvent.__table__
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Levels:
    """(marker, reached when the time left is at most this), most urgent first; the first is "expired" at zero."""

    steps: tuple[tuple[str, timedelta], ...]

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(marker for marker, _limit in self.steps)

    def marker(self, left: timedelta) -> str | None:
        return next((marker for marker, limit in self.steps if left <= limit), None)

    def rank(self, marker: str) -> int:
        """3 for the most urgent of three levels, 1 for the least."""
        return len(self.steps) - self.markers.index(marker)

    def limit_hours(self, marker: str) -> int:
        return int(dict(self.steps)[marker].total_seconds() // 3600)

    def as_urgent(self, marker: str) -> tuple[str, ...]:
        """This marker and the more urgent ones: raised already, any of them makes this one moot."""
        return self.markers[: self.markers.index(marker) + 1]


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def duration(left: timedelta) -> str:
    if left >= timedelta(days=2):
        return f"{round(left / timedelta(days=1))} days"  # 4 days 23 h is "5 days", the moment said beside it
    hours = max(1, int(left.total_seconds() // 3600))
    return f"{hours} hour" + ("" if hours == 1 else "s")


def left_words(left: timedelta) -> str:
    return "expired" if left <= timedelta(0) else f"expires in {duration(left)}"


def describe(left: timedelta, moment: datetime) -> str:
    """The time left (or since) in words, with the moment in UTC: "expires in 5 days, at … UTC", "expired at …"."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    separator = " " if left <= timedelta(0) else ", "
    return f"{left_words(left)}{separator}at {stamp}"


def raised(conn: Connection, rule: str, subject_field: str) -> set[tuple[str, str, str]]:
    """(what expires, its expiry, marker) of every alert of ``rule`` on the trail."""
    details = _A.c.details
    rows = conn.execute(
        select(
            func.json_extract(details, f"$.{subject_field}"), func.json_extract(details, "$.expires"),
            func.json_extract(details, "$.marker"),
        ).where(_A.c.kind == KIND, func.json_extract(details, "$.rule") == rule)
    ).all()  # fmt: skip
    return {(str(subject), str(expires), str(marker)) for subject, expires, marker in rows}


def raise_alert(
    conn: Connection, rule: str, levels: Levels, marker: str, left: timedelta, summary: str,
    subject: dict[str, str], expires: datetime, now: datetime,
) -> None:  # fmt: skip
    """One warning level as an alert entry, in the caller's transaction; ``subject``: what expires (no secret)."""
    details = {
        "rule": rule, "threshold": levels.limit_hours(marker), "observed": int(left.total_seconds() // 3600),
        "window_minutes": 0, "window_start": iso_utc(now), "window_end": iso_utc(now), "trigger_seq": 0,
        "summary": summary, **subject, "expires": iso_utc(expires), "marker": marker,
    }  # fmt: skip
    append(conn, Event(KIND, ACTOR, "success", details=details, at=now))
    log.warning("alert %s: %s", rule, summary)  # `serve`'s log says it too: a token's name, never its secret
