"""Erasure benchmark: erase N subjects (default 1,000) held at three independent SCIM servers (scim2-server on
loopback), over a fresh SQLCipher vault.

Per run: N users are created and provisioned to the three targets (not timed), then one erasure request for all
of them is timed in two phases:
- local: the request itself — pseudonyms, one step per (subject, target), rows and outbox items deleted, keys
  shredded, ledger written and fsynced, then WAL checkpoint + VACUUM + truncate;
- targets: the worker until the request is closed: DELETE then GET → 404 per (subject, target), 3 N of each.
Also: per-step latency (requested → confirmed) p50/p95, the signed receipt (JSON + PDF) for the N subjects, and
for comparison a run of N single-subject requests' local phase (one VACUUM each) on a tenth of N.

Prints medians over --repeats runs and ratios. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.erasure.receipt import export  # noqa: E402
from app.erasure.requests import request_erasure  # noqa: E402
from app.erasure.steps import utc  # noqa: E402
from app.erasure.tables import ErasureStep  # noqa: E402
from app.erasure.worker import drive  # noqa: E402
from app.feed.tables import OutboxItem  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from tests.targets.conftest import ScimTarget  # noqa: E402
from tests.targets.support import provisioning  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"


def user(n: int) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"erase-{n:06d}@example.test",
        "displayName": f"Erase {n}",
        "name": {"givenName": "Erase", "familyName": f"N{n}"},
        "emails": [{"value": f"erase-{n:06d}@example.test", "type": "work"}],
        "title": "Engineer",
    }


def pending(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return int(conn.execute(select(func.count()).where(OutboxItem.state == "pending")).scalar_one())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def step_latencies(vault: Vault, request_id: str) -> tuple[list[float], dict[str, int]]:
    with vault.read_connection() as conn:
        rows = conn.execute(
            select(ErasureStep.state, ErasureStep.requested, ErasureStep.confirmed).where(
                ErasureStep.request_id == request_id
            )
        ).all()
    states: dict[str, int] = {}
    latencies = []
    for state, requested, confirmed in rows:
        states[state] = states.get(state, 0) + 1
        if confirmed is not None:
            latencies.append((utc(confirmed) - utc(requested)).total_seconds())  # type: ignore[operator]
    return latencies, states


def one_run(count: int) -> dict[str, float]:
    targets = [ScimTarget(f"app{i}") for i in (1, 2, 3)]
    for target in targets:
        target.start()
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-erase-"))
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    run = provisioning(vault, targets)
    try:
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda n: str(run.service.create("User", user(n)).body["id"]), range(count)))  # type: ignore[index]
        while pending(vault):
            time.sleep(0.05)
        assert all(len(t.users()) == count for t in targets)
        run.dispatcher.stop()

        started = time.perf_counter()
        request_id = request_erasure(vault, ids, "art17-1a", "bench")
        local_done = time.perf_counter()
        assert drive(vault, [request_id], timeout=1800)
        finished = time.perf_counter()
        latencies, states = step_latencies(vault, request_id)
        assert states == {"succeeded": 3 * count}, states
        assert all(t.users() == [] for t in targets)

        receipt_started = time.perf_counter()
        export(vault, request_id, folder / "receipts")
        receipt_done = time.perf_counter()

        # The same local work as one request per subject (each with its own VACUUM), on a tenth of N.
        singles = max(1, count // 10)
        with ThreadPoolExecutor(8) as pool:
            more = list(
                pool.map(lambda n: str(run.service.create("User", user(n)).body["id"]), range(count, count + singles))
            )  # type: ignore[index]
        single_started = time.perf_counter()
        for rid in more:
            request_erasure(vault, [rid], "art17-1a", "bench")
        single_done = time.perf_counter()

        local = local_done - started
        total = finished - started
        return {
            "local_s": local,
            "targets_s": finished - local_done,
            "total_s": total,
            "subjects_per_s": count / total,
            "target_steps_per_s": 3 * count / (finished - local_done),
            "step_p50_s": percentile(latencies, 0.5),
            "step_p95_s": percentile(latencies, 0.95),
            "receipt_s": receipt_done - receipt_started,
            "local_ms_per_subject_batched": 1000 * local / count,
            "local_ms_per_subject_single": 1000 * (single_done - single_started) / singles,
        }
    finally:
        run.close()
        vault.close()
        for target in targets:
            target.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for index in range(args.repeats):
        print(f"run {index + 1}/{args.repeats}: erase {args.count:,} subjects at 3 targets…", file=sys.stderr)
        runs.append(one_run(args.count))
    print(f"{'metric':<34}{'median':>10}   runs")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:<34}{statistics.median(values):>10.3f}   {', '.join(f'{v:.3f}' for v in values)}")
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(f"local share of the total: {median['local_s'] / median['total_s']:.2f}")
    print(
        "single-subject requests / one batched request, local ms per subject: "
        f"{median['local_ms_per_subject_single'] / median['local_ms_per_subject_batched']:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
