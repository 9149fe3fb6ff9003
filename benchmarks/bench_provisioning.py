"""Provisioning benchmark: creates fanned out to three independent SCIM servers (scim2-server on loopback).

Measures, over a fresh SQLCipher vault with the dispatcher running:
- propagation throughput: N users created through the service (8 threads, like concurrent IdP requests) until
  every target holds all of them (users/s end to end, and how long the fan-out lags the creates);
- IdP-to-target latency per (user, target): from the audit event of the local create to the audit event of the
  target's confirmed create (both timestamps are written in the transactions that made them), p50/p95/p99;
- the same for a trickle (one create every 50 ms), which is what the "< 2 s p95" goal is about.

Prints medians over --repeats runs and the ratio trickle p95 / goal. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from app.audit.trail import read  # noqa: E402
from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.feed.tables import OutboxItem  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from tests.targets.conftest import ScimTarget  # noqa: E402
from tests.targets.support import provisioning  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"
GOAL_P95_SECONDS = 2.0


def user(n: int) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"bench-{n:06d}@example.test",
        "displayName": f"Bench {n}",
        "name": {"givenName": "Bench", "familyName": f"N{n}"},
        "emails": [{"value": f"bench-{n:06d}@example.test", "type": "work"}],
        "title": "Engineer",
    }


def pending(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return int(conn.execute(select(func.count()).where(OutboxItem.state == "pending")).scalar_one())


def latencies(vault: Vault) -> list[float]:
    created: dict[str, datetime] = {}
    result: list[float] = []
    with vault.read_connection() as conn:
        for event in read(conn):
            if event.kind == "scim.resource.created" and event.subject:
                created[event.subject] = datetime.fromisoformat(event.at.replace("Z", "+00:00"))
            elif event.kind == "provision.created" and event.subject in created:
                done = datetime.fromisoformat(event.at.replace("Z", "+00:00"))
                result.append((done - created[event.subject]).total_seconds())
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def one_run(count: int, trickle: int) -> dict[str, float]:
    targets = [ScimTarget(f"app{i}") for i in (1, 2, 3)]
    for target in targets:
        target.start()
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-prov-"))
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    run = provisioning(vault, targets)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: run.service.create("User", user(n)), range(count)))
        created = time.perf_counter()
        while pending(vault):
            time.sleep(0.05)
        finished = time.perf_counter()
        bulk = latencies(vault)
        for n in range(count, count + trickle):
            run.service.create("User", user(n))
            time.sleep(0.05)
        while pending(vault):
            time.sleep(0.05)
        trickled = latencies(vault)[len(bulk) :]
        assert all(len(t.users()) == count + trickle for t in targets)
        return {
            "creates_per_s": count / (created - started),
            "end_to_end_users_per_s": count / (finished - started),
            "fan_out_lag_s": finished - created,
            "burst_p50_s": percentile(bulk, 0.5),
            "burst_p95_s": percentile(bulk, 0.95),
            "trickle_p50_s": percentile(trickled, 0.5),
            "trickle_p95_s": percentile(trickled, 0.95),
            "trickle_p99_s": percentile(trickled, 0.99),
        }
    finally:
        run.close()
        vault.close()
        for target in targets:
            target.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for index in range(args.repeats):
        print(f"run {index + 1}/{args.repeats}: {args.count:,} creates to 3 targets…", file=sys.stderr)
        runs.append(one_run(args.count, args.trickle))
    print(f"{'metric':<34}{'median':>10}   runs")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:<34}{statistics.median(values):>10.3f}   {', '.join(f'{v:.3f}' for v in values)}")
    p95 = statistics.median(r["trickle_p95_s"] for r in runs)
    print(f"trickle p95 / goal ({GOAL_P95_SECONDS:.0f} s): {p95 / GOAL_P95_SECONDS:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
