"""Which breach clocks and request deadlines deserve a notice, read from a real vault with a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from app.incidents.register import IncidentRegister
from app.notices.deadlines import DeadlineWatch, read_deadlines
from app.notices.notice import BREACH_CLOCK, REQUEST_DEADLINE
from app.store.vault import Vault
from tests.dsr.dsr_support import REQUESTER, Clock, register_at, sealed_details, with_person

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)  # due Monday 2 March 2026 (London)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def texts(vault: Vault, watch: DeadlineWatch, now: datetime) -> list[str]:
    return [f"{n.kind}:{n.title}" for n in watch.news(read_deadlines(vault, now))]


def test_a_breach_clock_is_announced_a_day_before_and_when_overdue_once_each(vault: Vault) -> None:
    clock = Clock(at("2026-12-01T09:00+00:00"))
    register = IncidentRegister(vault, now=clock)
    incident = register.open_incident("Laptop of Ottoline Vexbridge stolen", "dpo")
    register.open_incident("Candidate never made aware", "dpo")  # no aware time: no clock, no notice
    register.set_aware(incident, "dpo", "police report received", at=clock.now)
    watch = DeadlineWatch()
    assert texts(vault, watch, clock.now + timedelta(hours=47)) == []  # 25 h left
    soon = watch.news(read_deadlines(vault, clock.now + timedelta(hours=48, minutes=1)))
    assert [(n.kind, n.reference, n.urgent) for n in soon] == [(BREACH_CLOCK, str(incident), False)]
    assert soon[0].text.startswith(f"Incident #{incident}: 23 h 59 min left (deadline 2026-12-04 09:00 UTC)")
    assert "Ottoline" not in soon[0].text  # the title is free text: never in a notice
    assert texts(vault, watch, clock.now + timedelta(hours=60)) == []  # said once
    overdue = watch.news(read_deadlines(vault, clock.now + timedelta(hours=72, minutes=30)))
    assert [(n.title, n.urgent) for n in overdue] == [("Custos: breach notification overdue", True)]
    assert "OVERDUE by 0 h 30 min" in overdue[0].text
    assert texts(vault, watch, clock.now + timedelta(hours=80)) == []
    # Notified: the clock stops; nothing more is said about it.
    clock.advance(hours=80)
    register.notify(incident, "dpo", "ICO-123", delay_reason="the scope took a week to establish")
    assert read_deadlines(vault, clock.now) == []


def test_a_request_deadline_is_announced_a_week_before_the_last_day_and_when_passed(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED, private=sealed_details())
    watch = DeadlineWatch()
    assert texts(vault, watch, at("2026-02-22T12:00+00:00")) == []  # 8 days left
    week = watch.news(read_deadlines(vault, at("2026-02-23T08:00+00:00")))
    assert [(n.kind, n.reference) for n in week] == [(REQUEST_DEADLINE, request_id)]
    assert week[0].title == "Custos: request due soon"
    assert week[0].text == f"Request {request_id}: 7 days left (due 2026-03-02) (Art. 12(3))."
    assert texts(vault, watch, at("2026-02-25T08:00+00:00")) == []
    assert texts(vault, watch, at("2026-03-01T09:00+00:00")) == [f"{REQUEST_DEADLINE}:Custos: request due tomorrow"]
    assert texts(vault, watch, at("2026-03-02T23:30+00:00")) == []  # due today is the same level as tomorrow
    passed = watch.news(read_deadlines(vault, at("2026-03-03T00:30+00:00")))
    assert [(n.title, n.urgent) for n in passed] == [("Custos: request deadline passed", True)]
    assert REQUESTER not in json.dumps([n.__dict__ for n in week + passed])


def test_after_a_pause_only_the_most_urgent_level_is_said_and_a_new_deadline_starts_again(vault: Vault) -> None:
    with_person(vault)
    register, clock = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED, private=sealed_details())
    watch = DeadlineWatch()
    assert texts(vault, watch, at("2026-03-01T09:00+00:00")) == [f"{REQUEST_DEADLINE}:Custos: request due tomorrow"]
    clock.now = at("2026-02-20T09:00+00:00")
    register.extend(request_id, 2, "complex request", clock.now.date(), "dpo")
    # The extended deadline (three months after receipt) is far: the item leaves the list and is forgotten.
    assert texts(vault, watch, at("2026-03-01T10:00+00:00")) == []
    assert texts(vault, watch, at("2026-04-27T09:00+00:00")) == [f"{REQUEST_DEADLINE}:Custos: request due soon"]


def test_a_fresh_watch_says_what_is_already_overdue_once(vault: Vault) -> None:
    """After a restart the overdue request is said again, once: the reminder, not a burst of stale levels."""
    with_person(vault)
    register, _ = register_at(vault)
    register.open(["access"], "email", "dpo", RECEIVED, private=sealed_details())
    watch = DeadlineWatch()
    assert texts(vault, watch, at("2026-03-10T09:00+00:00")) == [f"{REQUEST_DEADLINE}:Custos: request deadline passed"]
    assert texts(vault, watch, at("2026-03-11T09:00+00:00")) == []


def test_a_token_expiry_is_announced_14_days_before_on_its_last_day_and_when_expired(vault: Vault) -> None:
    """An identity provider whose token expires is refused from that moment: the operator hears of it before."""
    from app.notices.notice import TOKEN_EXPIRY
    from app.setup.tokens import TokenStore

    info, secret = TokenStore(vault).create("entra-production", 30)
    assert info.expires is not None
    watch = DeadlineWatch()
    assert texts(vault, watch, info.expires - timedelta(days=15)) == []
    soon = watch.news(read_deadlines(vault, info.expires - timedelta(days=10)))
    assert [(n.kind, n.page, n.reference, n.urgent) for n in soon] == [
        (TOKEN_EXPIRY, "tokens", "entra-production", False)
    ]
    assert soon[0].text.startswith("Token 'entra-production' expires in 10 days, at ")
    assert texts(vault, watch, info.expires - timedelta(days=9)) == []  # said once
    assert texts(vault, watch, info.expires - timedelta(hours=5)) == [f"{TOKEN_EXPIRY}:Custos: token expires soon"]
    expired = watch.news(read_deadlines(vault, info.expires + timedelta(seconds=1)))
    assert [(n.title, n.urgent) for n in expired] == [("Custos: token expired", True)]
    assert secret not in expired[0].text and info.hint not in expired[0].text
    TokenStore(vault).revoke("entra-production")  # replaced: nothing more to say
    assert read_deadlines(vault, info.expires + timedelta(days=1)) == []
