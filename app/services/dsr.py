"""Data subject requests (Art. 12-22), the use cases behind ``custos dsr`` and the app's Requests page, and the
lines other pages show about the register: the Overview's "open requests and the nearest deadline" and the
Identities page's "requests that concern this person". Qt-free, run in a worker."""

from __future__ import annotations

from datetime import datetime

from app.dsr.register import DsrRegister, RequestView


def overview_line(requests: list[RequestView], now: datetime) -> str:
    """E.g. "3 open requests; 1 overdue; nearest deadline 2026-03-02 (4 days left)"."""
    waiting = [v for v in requests if v.answered_on is None and v.state != "closed"]
    if not waiting:
        return "No data subject request awaiting an answer."
    nearest = min(waiting, key=lambda v: v.deadline)
    overdue = sum(1 for v in waiting if v.clock(now).state == "overdue")
    return (f"{len(waiting)} open request{'s' if len(waiting) != 1 else ''}; {overdue} overdue; nearest deadline "
            f"{nearest.deadline.isoformat()} ({nearest.clock(now).describe().split(' (')[0]})")  # fmt: skip


def read_overview_line(register: DsrRegister) -> str:
    return overview_line(register.list(open_only=True), register.now())


def subject_lines(register: DsrRegister, scim_id: str) -> list[str]:
    """One line per request about this identity (newest first); empty when there is none."""
    now = register.now()
    return [
        f"{view.id}: {', '.join(view.rights)}; received {view.received_day.isoformat()}; due "
        f"{view.deadline.isoformat()}; {view.state} — {view.clock(now).describe()}"
        for view in register.for_subject(scim_id)
    ]
