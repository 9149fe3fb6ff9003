"""Applying a policy version, as every caller must: the policy's own apply (app/policy/apply.py: the version, the
purge, the trail) with the targets that must be sent again queued in the same transaction (app/targets/sync.py).

The policy package sits below the targets and cannot queue their syncs itself (issue 15 §1); this module is the
one composition, so the command line, the app, the first run and the tests cannot apply a policy and forget the
targets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from app.policy import apply
from app.policy.versions import PolicyRecord
from app.store.vault import Vault
from app.targets.sync import resend_changed


def apply_text(
    conn: Connection, text: str, operator: str, now: datetime | None = None
) -> tuple[PolicyRecord, apply.Impact]:
    """In the caller's transaction (the first run applies the first policy with the rest of the set-up)."""
    return apply.apply_text(conn, text, operator, now, resend=resend_changed)


def apply_policy(
    vault: Vault, text: str, operator: str, now: datetime | None = None
) -> tuple[PolicyRecord, apply.Impact]:
    """In its own transaction, then the WAL checkpoint and the PolicyApplied event (app/policy/apply.py)."""
    return apply.apply_policy(vault, text, operator, now, resend=resend_changed)
