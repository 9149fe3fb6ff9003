"""What the last check of a target against the target itself found, and whether it still holds (decision 0036).

Custos's own bookkeeping (the outbox and the links) says what it pushed; only a reconcile reads what the target
holds. A target is called "in sync" when both agree: the bookkeeping is clean and the last reconcile, started after
the last change pushed there, found no difference. Each reconcile is kept as counts (``target_checks``) and written
with its trail entry in one transaction; neither holds a userName, a value or an id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.core.utc import as_utc, utc_text
from app.feed.tables import OutboxItem, TargetCheck, TargetLink

_C = TargetCheck.__table__
_O = OutboxItem.__table__
_L = TargetLink.__table__

IN_SYNC, NOT_VERIFIED, DRIFT = "in sync", "not verified", "drift"


@dataclass(frozen=True)
class Check:
    """One reconcile's counts: accounts read, and accounts found different by kind."""

    started: datetime
    checked: int
    unknown: int
    missing: int
    differing: int
    beyond: int
    repairable: int  # distinct subjects among missing, differing and beyond (a subject may be in two kinds)
    repaired: bool

    @property
    def differences(self) -> int:
        """Accounts found different: unknown ones at the target, and our subjects missing or differing there."""
        return self.unknown + self.repairable

    @property
    def unrepaired(self) -> int:
        """Differences no repair was queued for (accounts unknown to Custos are never pushed to, so never repaired)."""
        return self.unknown + (0 if self.repaired else self.repairable)


@dataclass(frozen=True)
class Verification:
    """The last check of one target and the last change pushed there: what can truthfully be said of it."""

    last: Check | None
    last_push: datetime | None

    @property
    def verdict(self) -> str:
        """``drift`` while the last check's differences stand; ``not verified`` when no check ran after the last
        push (or a repair was pushed since); ``in sync`` only when the last check came after it and found none."""
        if self.last is None:
            return NOT_VERIFIED
        if self.last.unrepaired:
            return DRIFT
        if self.last.differences or (self.last_push is not None and self.last_push > as_utc(self.last.started)):
            return NOT_VERIFIED
        return IN_SYNC

    @property
    def drift(self) -> int:
        return self.last.unrepaired if self.last is not None and self.verdict == DRIFT else 0

    def verified(self) -> str:
        """When the target was last checked, for tables: ``2025-03-01 09:30 UTC`` or ``never``."""
        return utc_text(self.last.started) if self.last is not None else "never"

    def verified_at(self) -> str:
        """The same moment as one token, for ``target list``'s VERIFIED column: ``2025-03-01T09:30Z`` or ``never``."""
        return as_utc(self.last.started).strftime("%Y-%m-%dT%H:%MZ") if self.last else "never"

    def sentence(self) -> str:
        """One line under the state: what the last check found, and when."""
        if self.last is None:
            return "Never checked against the target: reconcile to verify."
        found = f"{self.last.differences:,} difference(s)" if self.last.differences else "no difference"
        said = f"Last checked {self.verified()}: {found}"
        if self.verdict == NOT_VERIFIED:
            return f"{said}; changed since: reconcile to verify."
        return f"{said}."


def last_push(conn: Connection, target_id: int) -> datetime | None:
    """When Custos last changed something at the target: the newest push done, or link saved or refreshed."""
    pushed = conn.execute(
        select(func.max(_O.c.finished)).where(_O.c.target_id == target_id, _O.c.state == "done")
    ).scalar()
    linked = conn.execute(select(func.max(_L.c.synced_at)).where(_L.c.target_id == target_id)).scalar()
    moments = [as_utc(m) for m in (pushed, linked) if m is not None]
    return max(moments) if moments else None


def latest(conn: Connection, target_id: int) -> Verification:
    row = conn.execute(select(_C).where(_C.c.target_id == target_id).order_by(_C.c.seq.desc()).limit(1)).first()
    check = None
    if row is not None:
        check = Check(as_utc(row.started), row.checked, row.unknown, row.missing, row.differing, row.beyond,
                      row.repairable, row.repaired)  # fmt: skip
    return Verification(check, last_push(conn, target_id))


def record(conn: Connection, target_id: int, name: str, check: Check) -> None:
    """Keep the check and its trail entry in the caller's write transaction (with the repair's outbox items)."""
    values = {"target_id": target_id, "started": check.started, "checked": check.checked, "unknown": check.unknown,
              "missing": check.missing, "differing": check.differing, "beyond": check.beyond,
              "repairable": check.repairable, "repaired": check.repaired}  # fmt: skip
    conn.execute(insert(_C).values(values))
    details = {key: value for key, value in values.items() if key not in ("target_id", "started")}
    details["target"] = name
    append(conn, Event("target.reconciled", current_actor.get(), details=details))  # drift is a finding, not a failure
