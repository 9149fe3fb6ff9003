"""Retention benchmark: what per-subject account retention costs (app/policy/retention.py, app/policy/scope.py).

Per run, on a fresh SQLCipher vault: N Users created through ScimService and marked deactivated long ago, then
the expired-account computation the hourly job makes (``expired_accounts``, read-only: nothing is erased) timed
under the shipped policy (no purpose scope: no query per subject) and under the same policy with a purpose scoped
by a SCIM filter (one scope query per candidate subject and scoped purpose). Prints medians. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.core.events import EventBus  # noqa: E402
from app.policy.in_force import PolicyInForce  # noqa: E402
from app.policy.retention import expired_accounts  # noqa: E402
from app.policy.versions import default_policy_text  # noqa: E402
from app.scim.service import ScimService  # noqa: E402
from app.store.models import ScimResource  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from app.targets.policy_change import apply_policy  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCOPED = default_policy_text().replace(
    'deactivated_account_retention = { period = "P30D", justification = "Same as the account" }',
    'deactivated_account_retention = { period = "P30D", justification = "Same as the account" }\n'
    "scope = { filter = 'emails pr' }",
)


def _seed(vault: Vault, users: int) -> None:
    service = ScimService(vault, "https://bench.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        for n in range(users):
            body: dict[str, object] = {"schemas": [USER], "userName": f"u{n}@example.test", "active": False}
            if n % 2:
                body["emails"] = [{"value": f"u{n}@example.test"}]
            service.create("User", body)
    finally:
        service.close()
    with vault.write_transaction() as conn:
        table = ScimResource.__table__
        conn.execute(update(table).values(deactivated_at=datetime(2020, 1, 1, tzinfo=UTC)))


def _time(vault: Vault, repeats: int) -> tuple[float, int]:
    now = datetime.now(UTC) + timedelta(days=1)
    timings, found = [], 0
    for _ in range(repeats):
        with vault.read_connection() as conn:
            policy = PolicyInForce(vault).for_connection(conn).policy
            started = time.perf_counter()
            expired = expired_accounts(conn, policy, now)
            timings.append(time.perf_counter() - started)
            found = sum(len(ids) for ids in expired.values())
    return statistics.median(timings), found


def run(users: int, repeats: int) -> tuple[tuple[float, int], tuple[float, int]]:
    with tempfile.TemporaryDirectory() as folder:
        vault = create_vault(Path(folder), PASSPHRASE, PASSPHRASE)
        try:
            apply_policy(vault, default_policy_text(), "bench")
            _seed(vault, users)
            plain = _time(vault, repeats)
            apply_policy(vault, SCOPED, "bench")
            scoped = _time(vault, repeats)
        finally:
            vault.close()
    return plain, scoped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    (plain, plain_found), (scoped, scoped_found) = run(args.users, args.repeats)
    print(f"{args.users:,} deactivated users past their period, median of {args.repeats} runs")
    print(f"no purpose scope:     {plain * 1000:.1f} ms ({plain_found:,} expired; "
          f"{plain / args.users * 1e6:.0f} µs/user)")  # fmt: skip
    print(f"one scoped purpose:   {scoped * 1000:.1f} ms ({scoped_found:,} expired; "
          f"{scoped / args.users * 1e6:.0f} µs/user, {scoped / plain:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
