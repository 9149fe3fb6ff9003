"""The wall clock set back (an hour) after a checkpoint was signed.

Before: a checkpoint was due after 1,000 entries or 10 minutes since the last one; with the last one "an hour
ahead", the ten minutes came an hour and ten minutes later, and the trail's tail stayed unsigned that long (cut
off, it would leave no trace). Now a checkpoint lying ahead of the clock makes the next entry sign one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.audit.checkpoints import all_checkpoints, checkpoint_now
from app.audit.trail import Event, append
from app.audit.verify import verify_trail
from app.store.vault import Vault


def test_a_checkpoint_ahead_of_the_clock_does_not_hold_back_the_next(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        append(conn, Event("test.before", "operator:test"))
        ahead = checkpoint_now(conn, now=datetime.now(UTC) + timedelta(hours=1))  # signed before the clock went back

    with vault.write_transaction() as conn:
        append(conn, Event("test.after", "operator:test"))  # one entry: neither 1,000 nor ten minutes
        newest = max(all_checkpoints(conn), key=lambda c: c.tree_size)

    assert newest.tree_size > ahead.tree_size
    assert newest.time < ahead.time
    with vault.read_connection() as conn:
        report = verify_trail(conn)
    assert report.ok, report.summary()  # a checkpoint timed before the one ahead of it is not a breach
