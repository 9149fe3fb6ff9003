#!/usr/bin/env python3
"""Two (or more) source trees' ``serve`` side by side on copies of one seeded vault (a script, not a test).

A change to the request path is judged by the server CPU it costs per request and the rate it serves under the
same load, measured in one run with the trees alternating (the machine is shared: figures from separate runs are
not comparable). One vault is seeded through /Bulk by the first tree; every run starts a tree's server on a
fresh copy of it, so each sees the same data and none sees another's writes.

    python benchmarks/bench_ab_server.py --tree before=/path/to/old/checkout --tree after=. --rounds 3
    python benchmarks/bench_ab_server.py --tree a=. --tree b=/tmp/b --phases get,eq --users 5000

Phases: ``get`` (GET by id), ``eq`` (``userName eq``), ``create`` (POST), ``patch`` (PATCH replace), ``delete``
(DELETE, each id once; run last). Printed:
per tree and phase, the median rate, server CPU per request, p95 and p99 over the rounds, and each tree's ratio to
the first tree; then each tree's peak RSS (VmHWM) over its phases.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import (
    DEFAULT_PASSPHRASE,
    PATCH_SCHEMA,
    LoadGenerator,
    Req,
    Server,
    dumps,
    filter_path,
    log,
    new_user,
    seed_bulk,
    user_name,
)

PHASES = ("get", "eq", "create", "patch", "delete")  # in the order they run: a delete last, on its own ids


def requests_for(phase: str, ids: dict[int, str], args: argparse.Namespace, run: int) -> list[Req]:
    rng = random.Random(args.seed + run)
    picks = [rng.randrange(args.users) for _ in range(args.requests)]
    if phase == "get":
        return [Req("GET", f"/Users/{ids[i]}") for i in picks]
    if phase == "eq":
        return [Req("GET", filter_path(f'userName eq "{user_name(i)}"')) for i in picks]
    if phase == "delete":  # each id once: the run's copy of the vault loses them
        chosen = rng.sample(range(args.users), min(args.requests, args.users))
        return [Req("DELETE", f"/Users/{ids[i]}", None, 204) for i in chosen]
    if phase == "create":
        prefix = f"ab{run}x"
        return [Req("POST", "/Users", dumps(new_user(i, prefix)), 201) for i in range(args.requests)]
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": "t"}]}
    return [Req("PATCH", f"/Users/{ids[i]}", dumps({**body, "Operations": [{**body["Operations"][0],
            "value": f"title {run}-{n}"}]})) for n, i in enumerate(picks)]  # fmt: skip


def seed(root: Path, folder: Path, users: int) -> dict[int, str]:
    server = Server(folder, DEFAULT_PASSPHRASE, root=root)
    load = LoadGenerator(server, 1)
    try:
        ids, _stats = seed_bulk(load, range(users), "user", 1000)
    finally:
        load.close()
        server.stop()
    return ids


def one_run(root: Path, seeded: Path, ids: dict[int, str], args: argparse.Namespace, run: int) -> dict[str, dict]:
    with tempfile.TemporaryDirectory(prefix="custos-ab-") as tmp:
        folder = Path(tmp) / "data"
        shutil.copytree(seeded, folder)
        (folder / "server.log").unlink(missing_ok=True)
        server = Server(folder, DEFAULT_PASSPHRASE, root=root)
        load = LoadGenerator(server, args.concurrency)
        try:
            out = {}
            for phase in args.phases:
                result = load.run(phase, requests_for(phase, ids, args, run))
                if result.errors:
                    raise RuntimeError(f"{root}: {phase}: {result.errors} errors, first: {result.first_error}")
                out[phase] = result.summary()
            out["memory"] = {"peak_mb": server.rss_kb().get("VmHWM", 0) / 1024}
        finally:
            load.close()
            server.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", required=True, help="NAME=DIR, at least one, repeatable")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase and run")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="runs of every tree, alternating")
    parser.add_argument("--phases", default="get,eq", type=lambda s: s.split(","))
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    args = parser.parse_args()
    if unknown := set(args.phases) - set(PHASES):
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    args.phases = sorted(set(args.phases), key=PHASES.index)
    trees = [(name, Path(path).resolve()) for name, _, path in (t.partition("=") for t in args.tree)]
    runs: dict[str, list[dict[str, dict]]] = {name: [] for name, _ in trees}
    with tempfile.TemporaryDirectory(prefix="custos-ab-seed-") as tmp:
        seeded = Path(tmp) / "data"
        seeded.mkdir()
        log(f"seeding {args.users} users with {trees[0][0]}")
        ids = seed(trees[0][1], seeded, args.users)
        for run in range(args.rounds):
            for name, root in trees if run % 2 == 0 else list(reversed(trees)):
                log(f"round {run + 1}: {name}")
                runs[name].append(one_run(root, seeded, ids, args, run))
    print_table(trees, runs, args.phases)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))
    return 0


def print_table(trees: list[tuple[str, Path]], runs: dict[str, list[dict[str, dict]]], phases: list[str]) -> None:
    def med(name: str, phase: str, key: str) -> float:
        return statistics.median(run[phase][key] for run in runs[name])

    first = trees[0][0]
    header = ("phase", "tree", "rate/s", "CPU ms/req", "p95 ms", "p99 ms", "rate ratio", "CPU ratio")
    print("{:8} {:10} {:>9} {:>11} {:>8} {:>8} {:>11} {:>10}".format(*header))
    for phase in phases:
        for name, _ in trees:
            rate, cpu = med(name, phase, "rate_per_s"), med(name, phase, "server_cpu_ms_per_req")
            print(f"{phase:8} {name:10} {rate:9.1f} {cpu:11.3f} {med(name, phase, 'p95_ms'):8.2f} "
                  f"{med(name, phase, 'p99_ms'):8.2f} "
                  f"{rate / med(first, phase, 'rate_per_s'):10.2f}× "
                  f"{cpu / med(first, phase, 'server_cpu_ms_per_req'):9.2f}×")  # fmt: skip
    for name, _ in trees:  # after the phases, on a server started on the seeded copy (seeding not included)
        print(f"{'RSS peak':8} {name:10} {med(name, 'memory', 'peak_mb'):9.0f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
