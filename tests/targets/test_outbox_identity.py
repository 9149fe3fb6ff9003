"""Finishing an outbox item touches that item and no other (app/feed/outbox.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from app.feed import outbox
from app.feed.tables import OutboxItem
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target

_O = OutboxItem.__table__


def test_a_finished_push_does_not_close_the_item_that_took_its_seq(vault: Vault) -> None:
    """An erasure deletes its subject's items, one of them maybe in flight, and queues the groups it was in. SQLite
    gave the group's item the deleted item's seq (the table is not AUTOINCREMENT), and the finished push of the
    deleted item marked the group's item done: the group was never pushed, and kept the erased member."""
    now = datetime.now(UTC)
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", "https://app1.test/scim/v2", "app1", auth_kind="none"))
        outbox.enqueue(conn, "User", "erased-user", "upsert", now)
        (in_flight,) = outbox.due(conn, now, set())
    with vault.write_transaction() as conn:  # the erasure, while that push is in flight
        conn.execute(delete(_O).where(_O.c.resource_id == "erased-user"))
        outbox.enqueue(conn, "Group", "its-group", "upsert", now)
        (group_item,) = outbox.due(conn, now, set())
    assert group_item.seq == in_flight.seq  # the seq was given again: what made the two items one

    with vault.write_transaction() as conn:  # the in-flight push finishes
        outbox.complete(conn, in_flight, 200)
    with vault.read_connection() as conn:
        state = conn.execute(select(_O.c.state).where(_O.c.resource_id == "its-group")).scalar_one()
    assert state == "pending"
