"""The timeline query: filters, newest-first keyset pages, time windows by seq bisection, histogram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.audit.query import EventFilter, count, histogram, kinds, page, total
from app.audit.trail import Event, append
from app.store.vault import Vault

# After the vault's own "vault.created" event, as in a real trail (appended in time order).
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def seed(vault: Vault, n: int = 600) -> None:
    with vault.write_transaction() as conn:
        for i in range(n):
            kind = ("scim.request", "scim.resource.created", "policy.applied")[i % 3]
            actor = "token:okta" if i % 2 else "operator:dpo"
            outcome = "failure" if i % 10 == 0 else "success"
            append(conn, Event(kind, actor, outcome, details={"i": i}, at=START + timedelta(minutes=i)))


def test_pages_filters_and_windows(vault: Vault) -> None:
    seed(vault)
    with vault.read_connection() as conn:
        base = total(conn)
        newest = page(conn, EventFilter(), limit=50)
        assert [e.seq for e in newest] == list(range(base, base - 50, -1))
        following = page(conn, EventFilter(), before_seq=newest[-1].seq, limit=50)
        assert following[0].seq == newest[-1].seq - 1

        created = EventFilter(kind_prefix="scim.resource.")
        assert count(conn, created) == 200
        assert all(e.kind == "scim.resource.created" for e in page(conn, created, limit=500))

        failures = EventFilter(actor="operator:dpo", outcome="failure")
        assert count(conn, failures) == 60  # i % 10 == 0 are all even, so all by operator:dpo

        window = EventFilter(since=START + timedelta(minutes=100), until=START + timedelta(minutes=200))
        events = page(conn, window, limit=1000)
        assert len(events) == 100 and count(conn, window) == 100
        assert events[0].details == {"i": 199} and events[-1].details == {"i": 100}

        counts = histogram(conn, EventFilter(), START, START + timedelta(minutes=600), 6)
        assert counts == [100] * 6
        assert {"policy.applied", "scim.request", "scim.resource.created"} <= set(kinds(conn))
