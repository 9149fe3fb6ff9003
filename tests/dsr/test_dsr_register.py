"""The register: intake with the clock, each state transition (refusal and extension included), sealing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.audit.trail import of_kind
from app.dsr.register import RequestError
from app.dsr.tables import DsrRequest
from app.dsr.timeline import of_request
from app.store.vault import Vault
from tests.dsr.dsr_support import ADDRESS, REQUESTER, register_at, sealed_details, with_person

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)  # a Saturday


def test_open_computes_the_due_date_and_seals_the_requester(vault: Vault) -> None:
    subject = with_person(vault)
    register, _clock = register_at(vault)
    request_id = register.open(["access"], "letter", "dpo", RECEIVED, subject_id=subject, private=sealed_details())
    view = register.get(request_id)
    assert request_id.startswith("dsr-") and len(request_id) == 20
    assert (view.due, view.zone, view.country, view.subdivision) == (date(2026, 3, 2), "Europe/London", "GB", "ENG")
    assert view.state == "open" and view.subject and view.private["requester"]["name"] == REQUESTER
    with vault.read_connection() as conn:
        raw = conn.execute(select(DsrRequest.__table__.c.sealed)).scalar_one()
        opened = of_kind(conn, "dsr.opened")[0]
    assert REQUESTER not in raw and ADDRESS not in raw and json.loads(raw)["alg"] == "A256GCM"
    assert REQUESTER not in json.dumps(opened.details) and opened.details["due"] == "2026-03-02"
    assert opened.subject == view.subject  # the trail names the person as the same pseudonym, never the id


def test_bad_intake_is_refused_with_a_reason(vault: Vault) -> None:
    with_person(vault)
    register, _clock = register_at(vault)
    with pytest.raises(RequestError, match="future"):
        register.open(["access"], "email", "dpo", datetime(2026, 2, 11, tzinfo=UTC))
    with pytest.raises(RequestError, match="rights"):
        register.open(["everything"], "email", "dpo")
    with pytest.raises(RequestError, match="misrouted"):
        register.open(["not_gdpr", "access"], "email", "dpo")
    with pytest.raises(RequestError, match="authority"):
        register.open(["erasure"], "letter", "dpo", requester="representative", private=sealed_details())
    with pytest.raises(RequestError, match="at most"):
        register.open(["access"], "email", "dpo", private={"note": "x" * 2001})
    with pytest.raises(RequestError, match="No user"):
        register.open(["access"], "email", "dpo", subject_id="no-such-id")
    with vault.read_connection() as conn:
        assert conn.execute(select(DsrRequest.__table__.c.id)).first() is None  # nothing half-written


def test_a_bare_received_time_is_the_controllers_local_time(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault, "2026-08-10T09:00:00+00:00")
    # 23:30 on 31 July in London (BST, UTC+1) is 22:30 UTC, still 31 July: due 31 August 2026 — a bank holiday
    # in England (Summer bank holiday, last Monday of August) → Tuesday 1 September.
    view = register.get(register.open(["access"], "email", "dpo", datetime(2026, 7, 31, 23, 30)))
    assert view.received == datetime(2026, 7, 31, 22, 30, tzinfo=UTC) and view.due == date(2026, 9, 1)


def test_transitions_from_open_to_closed(vault: Vault) -> None:
    subject = with_person(vault)
    register, clock = register_at(vault)
    request_id = register.open(["rectification", "objection"], "email", "dpo", RECEIVED, subject_id=subject)
    with pytest.raises(RequestError, match="answer sent"):
        register.close(request_id, "dpo")
    view = register.record_task(request_id, "surname corrected at the IdP by J. Admin", "dpo", "rectification")
    assert view.state == "in_progress" and view.step("rectification").state == "done"
    with pytest.raises(RequestError, match="objection"):
        register.record_answer(request_id, "dpo", date(2026, 2, 10), [])
    register.record_task(request_id, "processing for marketing lists stopped at target crm", "dpo")
    with pytest.raises(RequestError, match="future"):
        register.record_answer(request_id, "dpo", date(2026, 2, 11), [])
    view = register.record_answer(request_id, "dpo", date(2026, 2, 10), [])
    assert (view.state, view.outcome, view.answered_on) == ("answered", "fulfilled", date(2026, 2, 10))
    assert view.clock(clock()).state == "answered_in_time"
    with pytest.raises(RequestError, match="answered"):
        register.verify(request_id, "verified", "dpo", "passport seen")
    closed = register.close(request_id, "dpo")
    assert closed.state == "closed" and closed.closed == clock()
    with pytest.raises(RequestError, match="closed"):
        register.close(request_id, "dpo")
    with vault.read_connection() as conn:
        kinds = [e.kind for e in of_request(conn, request_id)]
    assert kinds == ["dsr.opened", "dsr.task_done", "dsr.task_done", "dsr.answered", "dsr.closed"]


def test_refusal_whole_and_partial(vault: Vault) -> None:
    subject = with_person(vault)
    register, _ = register_at(vault)
    whole = register.open(["access"], "email", "dpo", RECEIVED)
    view = register.refuse(whole, "art11", "no identity in the directory matches the details given", "dpo")
    assert view.step("access").state == "refused" and view.step("access").ground == "art11"
    assert register.record_answer(whole, "dpo", date(2026, 2, 9), []).outcome == "refused"

    partial = register.open(["rectification", "erasure"], "email", "dpo", RECEIVED, subject_id=subject)
    with pytest.raises(RequestError, match="erasure only"):
        register.refuse(partial, "art17-3e", "litigation hold", "dpo")
    view = register.refuse(partial, "art17-3e", "records held for a pending employment tribunal", "dpo", "erasure")
    assert view.private["refusals"]["erasure"].startswith("records held")
    register.record_task(partial, "job title corrected in the HR system", "dpo")
    assert register.record_answer(partial, "dpo", date(2026, 2, 9), []).outcome == "partially_refused"
    with vault.read_connection() as conn:
        refused = of_kind(conn, "dsr.refused")
    assert [e.details["partial"] for e in reversed(refused)] == [False, True]
    assert "tribunal" not in json.dumps([e.details for e in refused])  # the reasoning stays sealed


def test_extension_once_within_the_first_month(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    with pytest.raises(RequestError, match="within the first month"):
        register.extend(request_id, 2, "complex", date(2026, 3, 3), "dpo")
    with pytest.raises(RequestError, match="one or two"):
        register.extend(request_id, 3, "complex", date(2026, 2, 5), "dpo")
    with pytest.raises(RequestError, match="reason"):
        register.extend(request_id, 2, " ", date(2026, 2, 5), "dpo")
    view = register.extend(request_id, 2, "many systems to search", date(2026, 2, 5), "dpo")
    assert (view.extended_due, view.deadline, view.extension_told) == (date(2026, 4, 30),) * 2 + (date(2026, 2, 5),)
    with pytest.raises(RequestError, match="once"):
        register.extend(request_id, 1, "still more", date(2026, 2, 6), "dpo")
    one = register.open(["access"], "email", "dpo", RECEIVED)
    assert register.extend(one, 1, "volume", date(2026, 2, 2), "dpo").extended_due == date(2026, 3, 31)


def test_verification_and_misrouted_requests(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "phone", "dpo", RECEIVED)
    with pytest.raises(RequestError, match="means"):
        register.verify(request_id, "verified", "dpo")
    view = register.verify(request_id, "requested", "dpo")
    assert view.verification == "requested" and view.verification_at is not None
    misrouted = register.open(["not_gdpr"], "email", "dpo", RECEIVED, private={"note": "a payroll question"})
    view = register.record_answer(misrouted, "dpo", date(2026, 2, 2), [])
    assert view.outcome == "not_gdpr" and view.state == "answered"


def test_list_orders_by_deadline_and_filters(vault: Vault) -> None:
    with_person(vault)
    register, _clock = register_at(vault, "2026-03-10T09:00:00+00:00")
    late = register.open(["access"], "email", "dpo", RECEIVED)  # due 2 March: overdue on 10 March
    soon = register.open(["erasure"], "email", "dpo", datetime(2026, 3, 1, tzinfo=UTC))  # due 1 April
    done = register.open(["not_gdpr"], "email", "dpo", datetime(2026, 2, 1, tzinfo=UTC))
    register.record_answer(done, "dpo", date(2026, 2, 3), [])
    assert [v.id for v in register.list()] == [late, soon, done]
    assert [v.id for v in register.list(open_only=True)] == [late, soon]
    assert [v.id for v in register.list(overdue_only=True)] == [late]
