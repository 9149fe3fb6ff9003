"""Migration 0022: a vault made by revision 0021 gets each erasure step's total of attempts at its target, kept apart
from the counter an operator's retry starts afresh; a step retried before the upgrade is counted by the DELETEs (or
PATCHes) it recorded, so its receipt no longer states fewer attempts than its exchanges show. A downgrade takes the
column away again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import text

from app.erasure import receipt
from app.store import migrate
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.store.old_vaults import downgrade_to, engine_at, table_columns

AT = datetime(2026, 11, 1, 9, tzinfo=UTC)
TZ = sa.DateTime(timezone=True)
_REQUESTS = sa.table("erasure_requests", *(sa.column(n) for n in ("id", "operator", "ground", "origin", "state",
                     "policy_stamp", "local_facts")), sa.column("created", TZ))  # fmt: skip
_SUBJECTS = sa.table("erasure_subjects", *(sa.column(n) for n in ("request_id", "subject_no", "pseudonym",
                     "resource_type", "rows_deleted", "key_shredded")))  # fmt: skip
_STEPS = sa.table("erasure_steps", *(sa.column(n) for n in ("id", "request_id", "subject_no", "target_name",
                  "erase_mode", "resource_type", "state", "attempts")), sa.column("next_attempt", TZ),
                  sa.column("requested", TZ))  # fmt: skip
_EXCHANGES = sa.table("erasure_exchanges", *(sa.column(n) for n in ("step_id", "method", "status")),
                      sa.column("at", TZ))  # fmt: skip

# step id -> (target, erase mode, state, attempts as 0021 counted them, the exchanges it recorded)
STEPS = {
    1: ("never-retried", "delete", "succeeded", 2, [("DELETE", 503), ("GET", 200), ("DELETE", 204), ("GET", 404)]),
    2: ("retried", "delete", "succeeded", 2, [("DELETE", 401), ("DELETE", 503), ("GET", 200), ("DELETE", 204)]),
    3: ("deactivated", "deactivate", "deprovisioned_not_erased", 1, [("PATCH", 401), ("PATCH", 200), ("GET", 200)]),
    4: ("recipient:payroll", "recipient", "waiting_manual", 0, []),
}


def _vault_at_0021(data_dir: Path) -> None:
    """One request whose steps 0021 counted with the one counter an operator's retry reset."""
    engine = engine_at(data_dir, "0021")
    request = {"id": "req-0022", "operator": "dpo", "ground": "art17-1a", "origin": "operator", "state": "open",
               "policy_stamp": "v1", "local_facts": "{}", "created": AT}  # fmt: skip
    subject = {"request_id": "req-0022", "subject_no": 0, "pseudonym": "p" * 64, "resource_type": "User",
               "rows_deleted": 1, "key_shredded": True}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.insert(_REQUESTS).values(request))
        conn.execute(sa.insert(_SUBJECTS).values(subject))
        for step_id, (name, mode, state, attempts, exchanges) in STEPS.items():
            step = {"id": step_id, "request_id": "req-0022", "subject_no": 0, "target_name": name, "erase_mode": mode,
                    "resource_type": "User", "state": state, "attempts": attempts, "next_attempt": AT,
                    "requested": AT}  # fmt: skip
            conn.execute(sa.insert(_STEPS).values(step))
            for method, status in exchanges:
                conn.execute(sa.insert(_EXCHANGES).values(step_id=step_id, method=method, status=status, at=AT))
    engine.dispose()


def test_a_0021_vault_gets_each_steps_total_of_attempts(data_dir: Path) -> None:
    _vault_at_0021(data_dir)
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
        with vault.engine.connect() as conn:
            totals = dict(conn.execute(text("SELECT id, attempts_total FROM erasure_steps")).all())
            limits = dict(conn.execute(text("SELECT id, attempts FROM erasure_steps")).all())
        assert totals == {1: 2, 2: 3, 3: 2, 4: 0}
        assert limits == {step_id: step[3] for step_id, step in STEPS.items()}  # the limit's counter is untouched
        with vault.read_connection() as conn:
            (subject,) = receipt.build(conn, "req-0022", AT)["subjects"]
        assert {t["target"]: t["attempts"] for t in subject["targets"]} == {
            "never-retried": 2, "retried": 3, "deactivated": 2, "recipient:payroll": 0
        }  # fmt: skip

        downgrade_to(vault.engine, "0021")
        columns = table_columns(vault.engine, "erasure_steps")
        assert "attempts_total" not in columns and "attempts" in columns
    finally:
        vault.close()
