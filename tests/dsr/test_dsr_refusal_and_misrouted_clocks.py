"""Which clock a request runs on. A refusal reaches the person "without delay and at the latest within one month of
receipt" (Art. 12(4)), even on a request extended by two months: the register counted it against the extension and
said "in time". A request recorded as not a GDPR request has no Art. 12(3) deadline: it got one, with "data subject
request" alerts and notices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from app.audit.trail import of_kind
from app.dsr.alerts import check_deadlines
from app.dsr.answering import draft_answer
from app.notices.deadlines import read_deadlines
from app.store.vault import Vault
from tests.dsr.dsr_support import register_at

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)  # due Monday 2 March 2026 in London; +2 months: 30 April


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_refusal_is_due_one_month_from_receipt_whatever_the_extension(vault: Vault) -> None:
    register, clock = register_at(vault)
    request_id = register.open(["access", "erasure"], "email", "dpo", RECEIVED)
    register.extend(request_id, 2, "many systems to search", date(2026, 2, 5), "dpo")
    assert register.get(request_id).deadline == date(2026, 4, 30)  # acting on it may take the extension …
    view = register.refuse(request_id, "art17-3e", "pending employment tribunal", "dpo", "erasure")
    assert (view.refusal_due, view.deadline) == (date(2026, 3, 2), date(2026, 3, 2))  # … refusing may not

    clock.now = at("2026-03-05T09:00+00:00")
    assert view.clock(clock.now).state == "overdue"
    passed = check_deadlines(vault, clock.now)
    assert [(a.request_id, a.marker, a.due) for a in passed] == [(request_id, "passed", "2026-03-02")]
    reached = [r for r in read_deadlines(vault, clock.now) if r.key[1] == request_id]
    assert [r.key[2] for r in reached] == ["2026-03-02"] and reached[0].notice.urgent


def test_the_alert_says_it_is_the_refusal_that_is_due(vault: Vault) -> None:
    register, clock = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    register.extend(request_id, 2, "many systems to search", date(2026, 2, 5), "dpo")
    register.refuse(request_id, "art12-5", "the fifth identical request this month", "dpo")
    (alert,) = check_deadlines(vault, at("2026-02-23T08:00+00:00"))
    assert (alert.marker, alert.due, alert.days_left) == ("7d", "2026-03-02", 7)
    with vault.read_connection() as conn:
        (entry,) = of_kind(conn, "alert.raised")
    assert entry.details["summary"] == (f"data subject request {request_id}: 7 days left, the refusal is due "
                                        "2026-03-02 (Art. 12(4): one month from receipt, whatever the extension)")
    clock.now = at("2026-03-10T12:00+00:00")
    answered = register.record_answer(request_id, "dpo", date(2026, 3, 10), [])
    assert answered.clock(at("2026-03-10T12:00+00:00")).state == "answered_late"  # it said "in time"


def test_a_misrouted_request_has_no_deadline_nor_its_alerts(vault: Vault) -> None:
    register, _ = register_at(vault)
    request_id = register.open(["not_gdpr"], "phone", "dpo", RECEIVED)
    later = at("2026-03-20T09:00+00:00")  # well past the date it used to get
    status = register.get(request_id).clock(later)
    assert status.state == "no_deadline" and status.describe() == "not a data subject request: no GDPR deadline"
    assert check_deadlines(vault, later) == []
    assert [r for r in read_deadlines(vault, later) if r.key[1] == request_id] == []
    assert register.list(overdue_only=True) == []


def test_a_misrouted_requests_letter_never_quotes_the_internal_note(vault: Vault, tmp_path: Path) -> None:
    register, _ = register_at(vault)
    note = "INTERNAL: wrong mailbox, forwarded to sales (ticket 88)"
    request_id = register.open(["not_gdpr"], "email", "dpo", RECEIVED, private={"note": note})
    draft_answer(register, request_id, "dpo", tmp_path, None)
    letter = (tmp_path / f"{request_id}-answer.md").read_text()
    assert "This is not a request under the GDPR" in letter and "INTERNAL" not in letter and "ticket" not in letter
