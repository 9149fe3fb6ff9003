"""A request's timeline, read from the audit trail: every ``dsr.*`` entry and deadline alert naming it.

The trail is the single record of what happened when (and it outlives the request's own row), so the register
keeps no second copy. Entries carry no personal data, so neither does the timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, or_, select

from app.audit.tables import AuditEvent
from app.core.wording import counted

_A = AuditEvent.__table__


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str  # ISO 8601 UTC, as on the trail
    kind: str
    actor: str
    text: str


def _text(kind: str, d: dict[str, Any]) -> str:
    texts = {
        "dsr.opened": lambda: f"received {d.get('received_day')} by {d.get('channel')}; "
        + (f"due {d.get('due')}" if d.get("rights") != ["not_gdpr"] else "not a data subject request: no GDPR deadline")
        + ("; matched to an identity" if d.get("matched") else "; not matched"),
        "dsr.matched": lambda: "matched to an identity",
        "dsr.verification": lambda: f"identity verification: {d.get('status')}" + _pause_text(d),
        "dsr.extended": lambda: f"extended by {_count(d.get('months'), 'month')} to {d.get('due')}; "
        f"told {d.get('told')}",
        "dsr.exported": lambda: "subject export written: " + ", ".join(f["kind"] for f in d.get("files", [])),
        "dsr.erasure_started": lambda: f"erasure started: {d.get('erasure_request')}",
        "dsr.erasure_finished": lambda: f"erasure finished: {d.get('erasure_request')}",
        "dsr.task_done": lambda: f"task recorded: {d.get('right')}",
        "dsr.restricted": lambda: "restriction flag " + ("set" if d.get("restricted") else "lifted" + _told(d)),
        "dsr.refused": lambda: f"refused ({d.get('ground')}): {', '.join(d.get('rights', []))}",
        "dsr.none_held": lambda: "no personal data held: " + ", ".join(d.get("rights", []))
        + (f" (erased earlier: {d['erasure_request']})" if d.get("erasure_request") else ""),
        "dsr.attached": lambda: "attached: " + ", ".join(f["kind"] for f in d.get("files", [])),
        "dsr.answer_drafted": lambda: "answer drafted",
        "dsr.answered": lambda: f"answer sent {d.get('sent')}; outcome {d.get('outcome')}",
        "dsr.closed": lambda: "closed",
        "alert.raised": lambda: f"deadline alert: {d.get('summary', '')}",
    }
    maker = texts.get(kind)
    return maker() if maker else kind


def _count(value: Any, word: str) -> str:
    """"2 months", "1 day" from a trail entry's number ("month(s)" before); "?" where the entry has none."""
    return counted(int(value), word, grouped=False) if isinstance(value, int) else f"? {word}s"


def _told(d: dict[str, Any]) -> str:
    """When and how the person was told before the lift (Art. 18(3)); a lift recorded before that was asked says
    it was not recorded rather than nothing."""
    if "informed_at" not in d:
        return "; the person's information before the lift (Art. 18(3)) was not recorded"
    at = str(d["informed_at"]).replace("T", " ")[:16]
    return f"; the person was informed {at} UTC by {str(d.get('informed_by', '?')).replace('_', ' ')} (Art. 18(3))"


def _pause_text(d: dict[str, Any]) -> str:
    """What an identity check did to the clock (Art. 12(6)), as its trail entry recorded it."""
    if "resumed" in d:
        return f"; clock resumed {d['resumed']} after {_count(d.get('paused_days'), 'day')}, due {d.get('due')}"
    if d.get("paused") is False:
        return f"; clock not paused: the deadline {d.get('due')} had passed"
    if "paused_since" in d:
        return f"; clock paused since {d['paused_since']}"
    return ""


def of_request(conn: Connection, request_id: str) -> list[Entry]:
    statement = (
        select(_A.c.seq, _A.c.at, _A.c.kind, _A.c.actor, _A.c.details)
        .where(
            or_(_A.c.kind.startswith("dsr.", autoescape=True), _A.c.kind == "alert.raised"),
            func.json_extract(_A.c.details, "$.request") == request_id,
        )
        .order_by(_A.c.seq)
    )
    return [
        Entry(row.seq, row.at, row.kind, row.actor, _text(row.kind, json.loads(row.details)))
        for row in conn.execute(statement)
    ]
