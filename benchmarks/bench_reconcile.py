#!/usr/bin/env python3
"""Reconcile at scale: the time and the memory of ``target reconcile`` against a real scim2-server target holding
every user, for one source tree or several side by side (a script, not a test).

One vault of ``--users`` users and one scim2-server holding each user's mapped payload, linked as the dispatcher
would have linked them (no drift). Each tree then reconciles the same vault and target in its own interpreter,
alternating ``--rounds`` times: wall time, the Python heap's peak during the call (tracemalloc) and the growth of
the process's peak RSS (VmHWM), medians.

    python benchmarks/bench_reconcile.py --users 10000
    python benchmarks/bench_reconcile.py --users 10000 --tree before=/path/to/checkout    # before → this tree
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
TOKEN = "bench-reconcile-token"
ATTRIBUTES = ["userName", "displayName", "emails.value"]

CHILD = r"""
import json, os, sys, time, tracemalloc
from pathlib import Path
root = Path(sys.argv[1]); sys.path[:0] = [str(root)]
from app.policy.in_force import PolicyInForce
from app.audit.vault_lifecycle import unlock_vault
from app.targets.reconcile import reconcile

def hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0

vault = unlock_vault(Path(sys.argv[2]), os.environ["CUSTOS_PASSPHRASE"])
policy = PolicyInForce(vault)
policy.get()
before = hwm()
tracemalloc.start()
started = time.perf_counter()
drift = reconcile(vault, policy, "app1")
seconds = time.perf_counter() - started
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"seconds": seconds, "heap_peak": peak, "rss_growth": hwm() - before, "checked": drift.checked,
                  "clean": drift.clean}))
"""


def _start_target(port: int) -> subprocess.Popen[bytes]:
    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "scim2_server.testserver.cli", "--port", str(port), "--bearer-token", TOKEN],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v2/ServiceProviderConfig", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("scim2-server did not start")


def _provision(vault: Any, base_url: str) -> None:
    """Each user's mapped payload POSTed to the target and linked, as a finished initial sync leaves them."""
    import httpx
    from sqlalchemy import select

    from app.feed import links
    from app.policy.edit import add_recipient
    from app.policy.in_force import PolicyInForce
    from app.policy.versions import default_policy_text
    from app.store.models import ScimResource
    from app.targets.config import TargetConfig, add_target
    from app.targets.mapping import mapping_for
    from app.targets.policy_change import apply_policy

    recipient = {"id": "app1", "name": "Application app1", "kind": "processor", "country": "IE",
                 "contract_link": "https://contracts.example.test/app1", "purposes": ["access-management"],
                 "attributes": ATTRIBUTES}  # fmt: skip
    apply_policy(vault, add_recipient(default_policy_text(), recipient), "bench")
    with vault.write_transaction() as conn:
        target_id = add_target(conn, TargetConfig(0, "app1", base_url, "app1", "bearer", TOKEN)).id
    mapping = mapping_for(PolicyInForce(vault).get().policy, "app1", {})
    table = ScimResource.__table__
    with vault.read_connection() as conn:
        rows = conn.execute(select(table.c.id, table.c.version, table.c.document)).all()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def post_all(chunk: list[Any]) -> list[tuple[str, int, str]]:
        made = []
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:  # one client per thread
            for row in chunk:
                answer = http.post("/Users", json=mapping.payload("User", json.loads(row.document)))
                answer.raise_for_status()
                made.append((row.id, row.version, str(answer.json()["id"])))
        return made

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        made = [link for chunk in pool.map(post_all, [rows[i::4] for i in range(4)]) for link in chunk]
    with vault.write_transaction() as conn:
        for resource_id, version, remote_id in made:
            links.save(conn, target_id, "User", resource_id, remote_id, version)
    print(f"provisioned {len(made):,} users at the target in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR")
    args = parser.parse_args()
    import profile_server

    trees = [(name, Path(folder).resolve()) for name, _, folder in (t.partition("=") for t in args.tree)]
    trees.append(("after" if trees else "this tree", ROOT))
    os.environ.setdefault("CUSTOS_PASSPHRASE", profile_server.DEFAULT_PASSPHRASE)
    target = _start_target(args.port)
    folder: Path | None = None
    try:
        vault, folder, _fresh = profile_server.open_vault(argparse.Namespace(data_dir=None, users=args.users))
        profile_server.seed(vault, args.users)
        _provision(vault, f"http://127.0.0.1:{args.port}/v2")
        vault.close()
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
        for _ in range(args.rounds):
            for name, tree in trees:
                out = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(folder)], check=True,
                                     capture_output=True, text=True).stdout  # fmt: skip
                runs[name].append(json.loads(out.strip().splitlines()[-1]))
                print(f"  {name}: {runs[name][-1]}", file=sys.stderr)
    finally:
        target.terminate()
        target.wait(10)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"reconcile of {args.users:,} users at a scim2-server target, medians of {args.rounds}")
    print(f"{'tree':<12}{'seconds':>10}{'heap peak MB':>15}{'RSS growth MB':>15}{'checked':>10}{'clean':>7}")
    for name, figures in runs.items():
        med = {k: statistics.median(f[k] for f in figures) for k in ("seconds", "heap_peak", "rss_growth")}
        print(f"{name:<12}{med['seconds']:>10.1f}{med['heap_peak'] / 2**20:>15.1f}{med['rss_growth'] / 2**20:>15.1f}"
              f"{figures[-1]['checked']:>10,}{'yes' if all(f['clean'] for f in figures) else 'no':>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
