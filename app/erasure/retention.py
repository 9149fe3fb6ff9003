"""The retention run: what the policy no longer allows to be kept is purged, and expired accounts are erased.

The purge itself is the policy's (app/policy/retention.py, in one transaction with its evidence); an expired
account becomes an erasure request with ground "retention", so it is erased here at once and at every target with
verification and a signed receipt, exactly like an erasure an operator asks for. The erasure package builds on
the policy package, hence this module here (issue 15 §1); the job that runs it is in app/jobs.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.events import RetentionPurged
from app.erasure.requests import request_erasure
from app.policy.in_force import PolicyInForce
from app.policy.retention import ACTOR, Purge, evidence, expired_accounts, run_retention
from app.policy.scope import SubjectScope, purposes_in_scope
from app.store.vault import Vault


def run_once(
    vault: Vault, policy: PolicyInForce, now: datetime | None = None, scope: SubjectScope = purposes_in_scope
) -> list[Purge]:
    """One retention run over the directory; returns the purges (attribute groups and erased accounts)."""
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        active = policy.for_connection(conn)
        purges = run_retention(conn, active, moment, accounts=False, scope=scope)
        expired = expired_accounts(conn, active.policy, moment, scope)
    if purges:  # after the commit; expired accounts are published by the erasure that removes them
        vault.events.publish(RetentionPurged(len(purges), sum(purge.subjects for purge in purges)))
    if expired:
        ids = sorted(subject for subjects in expired.values() for subject in subjects)
        request_id = request_erasure(vault, ids, "retention", ACTOR, origin="retention", now=moment)
        with vault.write_transaction() as conn:
            for period, subjects in sorted(expired.items(), key=lambda item: item[0].iso()):
                purge = Purge("accounts", "Deactivated accounts", (), len(subjects), period.iso())
                evidence(conn, purge, active.version, moment, erasure_request=request_id)
                purges.append(purge)
    return purges
