"""A trail whose retention period has passed for what it holds (decision 0055), for tests of what reads it after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app import trail_retention
from app.audit.checkpoints import checkpoint_now
from app.audit.trail import Event, append
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.store.vault import Vault


def one_day_trail_policy() -> str:
    """The shipped policy with the trail kept one day instead of three years."""
    return default_policy_text().replace('audit_trail = { period = "P3Y"', 'audit_trail = { period = "P1D"')


def prune_three_days_later(vault: Vault) -> tuple[Any, datetime]:
    """Sign what the trail holds, add an entry three days on, and run the retention job then: everything before
    the checkpoint has outlived a one-day period. Returns the job's result and that moment."""
    later = datetime.now(UTC) + timedelta(days=3)
    with vault.write_transaction() as conn:
        checkpoint_now(conn)
        append(conn, Event("token.created", "operator:dpo", details={"name": "x"}, at=later))
    done = trail_retention.run(vault, PolicyInForce(vault), later)
    assert done is not None and done.record is not None
    return done, later
