"""Data subject requests (Art. 12-22), the use cases behind ``custos dsr`` and the app's Requests page, and the
lines other pages show about the register: the Overview's "open requests and the nearest deadline" and the
Identities page's "requests that concern this person". Qt-free, run in a worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.dsr import model
from app.dsr import settings as register_settings
from app.dsr.answering import Answer, draft_answer, left_to_complete
from app.dsr.deadline import today_in
from app.dsr.matching import Candidate, find
from app.dsr.register import DsrRegister, RequestView, RightToName, private_text, utc_now
from app.dsr.settings import RegisterSettings
from app.dsr.timeline import Entry, of_request
from app.policy.model import Policy
from app.policy.versions import in_force
from app.services.dsr_actions import Acted, act, erasure_preview
from app.store.vault import Vault

__all__ = [
    "Acted",
    "Answer",
    "Candidate",
    "DsrRegister",
    "Entry",
    "RegisterSettings",
    "RequestView",
    "RightToName",
    "act",
    "answer",
    "erased_on",
    "erasure_preview",
    "find_subjects",
    "left_to_complete",
    "model",
    "overview_line",
    "private_text",
    "read_overview_line",
    "register",
    "save_settings",
    "settings_for",
    "subject_erased",
    "subject_lines",
    "timeline",
    "today_in",
]  # fmt: skip


def erased_on(register: DsrRegister, reference: str, zone: str) -> date | None:
    """The day the erasure ``reference`` closed, in the request's zone as the letter gives it (``dsr none-held``'s
    line); None while open or unknown."""
    from app.dsr import erased_before

    with register.vault.read_connection() as conn:
        found = erased_before.of_reference(conn, reference)
    return today_in(zone, found.closed) if found is not None and found.closed is not None else None


def subject_erased(register: DsrRegister, view: RequestView) -> bool:
    """Whether the person this request was matched to has been erased since (their keys are gone): the request
    still names them by pseudonym, but nothing of theirs can be exported or erased from it."""
    if not view.subject:
        return False
    with register.vault.read_connection() as conn:
        return register.subject_id(conn, view) is None


def register(vault: Vault, now: Callable[[], datetime] = utc_now) -> DsrRegister:
    """The register over this vault, its deadlines counted from ``now``. Its methods are the use cases (open,
    verify, extend, record a task, refuse, match, lift a restriction, close): each checks the change and records it
    with its trail entry in one transaction."""
    return DsrRegister(vault, now)


def find_subjects(vault: Vault, text: str) -> list[Candidate]:
    """Users whose id equals, or whose userName, displayName or externalId contains, ``text`` (for the operator
    matching a request to an identity; shown, never logged)."""
    with vault.read_connection() as conn:
        return find(conn, text)


def timeline(vault: Vault, request_id: str) -> list[Entry]:
    """The request's history from the audit trail, oldest first."""
    with vault.read_connection() as conn:
        return of_request(conn, request_id)


def answer(register_: DsrRegister, request_id: str, operator: str, out_dir: Path, sent: date | None) -> Answer:
    """The answer letter (Markdown and PDF) into ``out_dir``; with ``sent``, the answer is recorded as sent."""
    return draft_answer(register_, request_id, operator, out_dir, sent)


def settings_for(vault: Vault, data_dir: Path | None) -> RegisterSettings:
    """Where deadlines are counted (country, holidays, zone) and how long closed requests are kept: the saved
    settings in ``data_dir``, else what the policy in force says of the controller."""
    with vault.read_connection() as conn:
        record = in_force(conn)
    return register_settings.load(data_dir, record.policy if record else None)


def save_settings(vault: Vault, data_dir: Path, country: str | None, subdivision: str | None, zone: str | None,
                  retention: str | None) -> None:  # fmt: skip
    """Each value checked, then written (the others kept), and the change recorded on the trail with the values
    before and after: they decide every later Art. 12(3) deadline (which days count, in which zone) and how long
    closed requests are kept, so an auditor asks when they changed and who changed them. Nothing in them is
    personal data. The write happens in the trail's write transaction, which serialises it with other processes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    before = settings_for(vault, data_dir)
    with vault.write_transaction() as conn:
        register_settings.save(data_dir, country, subdivision, zone, retention)
        after = register_settings.load(data_dir, _policy_of(conn))
        details = {"before": _facts(before), "after": _facts(after)}
        append(conn, Event("dsr.settings_changed", current_actor.get(), details=details))


def _policy_of(conn: Connection) -> Policy | None:
    record = in_force(conn)
    return record.policy if record else None


def _facts(settings: RegisterSettings) -> dict[str, str]:
    return {"country": settings.country, "subdivision": settings.subdivision, "time_zone": settings.zone,
            "retention": settings.retention.describe()}  # fmt: skip


def overview_line(requests: list[RequestView], now: datetime) -> str:
    """E.g. "3 open requests; 1 overdue; nearest deadline 2026-03-02 (4 days left)"."""
    # a request recorded as not a GDPR request has no Art. 12(3) deadline: it is no data subject request awaiting one
    waiting = [v for v in requests if v.answered_on is None and v.state != "closed" and v.gdpr]
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
    views = register.for_subject(scim_id)
    return [
        f"{view.id}: {', '.join(view.rights)}; received {view.received_day.isoformat()}; "
        + (f"due {view.deadline.isoformat()}; " if view.gdpr else "")
        + f"{model.STATE_WORDS[view.state]} — {view.clock(now).describe()}"
        for view in views
    ]
