#!/usr/bin/env python3
"""The read of a GET by id (the row and its memberships) and a ``userName eq`` lookup (the page as bytes), in one
source tree or several, in process (a script, not a test): a fresh vault of ``--users`` users, the same random
picks, five rounds each, medians in microseconds.

    python benchmarks/bench_get_path.py                                  # this tree
    python benchmarks/bench_get_path.py --tree before=/path/to/checkout --tree after=.   # side by side

Each tree runs in its own interpreter, one after the other, alternating ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, random, sys, time
from pathlib import Path
root = Path(sys.argv[1]); sys.path[:0] = [str(root), str(root / "benchmarks")]
import profile_server
from app.directory import repository as repo
from app.directory.query import QueryParams, search_json
options = type("Options", (), {"data_dir": None, "users": int(sys.argv[2])})()
vault, _folder, _fresh = profile_server.open_vault(options)
profile_server.seed(vault, options.users)
by_name = profile_server.user_ids(vault)
rng = random.Random(1)
picks = [rng.choice(list(by_name)) for _ in range(int(sys.argv[3]))]
base = "https://scim.test/scim/v2"
figures = {"get": [], "username": []}
for _ in range(5):
    with vault.read_connection() as conn:
        started = time.perf_counter()
        for name in picks:
            row = repo.load(conn, "User", by_name[name])
            repo.memberships(conn, "User", [row.id], base)
        figures["get"].append((time.perf_counter() - started) / len(picks) * 1e6)
    started = time.perf_counter()
    for name in picks:
        search_json(vault, None, base, ("User",), QueryParams(filter=f'userName eq "{name}"'))
    figures["username"].append((time.perf_counter() - started) / len(picks) * 1e6)
print(json.dumps(figures))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR, repeatable (default: this tree)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of every tree, alternating")
    args = parser.parse_args()
    trees = [tuple(item.split("=", 1)) for item in args.tree] or [("this tree", str(ROOT))]
    figures: dict[str, dict[str, list[float]]] = {name: {"get": [], "username": []} for name, _ in trees}
    for _ in range(args.rounds):
        for name, folder in trees:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(folder).resolve()), str(args.users), str(args.reads)],
                capture_output=True, text=True, check=True, timeout=600,
            )  # fmt: skip
            for what, values in json.loads(done.stdout.strip().splitlines()[-1]).items():
                figures[name][what] += values
    for what, label in (("get", "GET read (row + memberships)"), ("username", "userName eq page as bytes")):
        for name, _ in trees:
            values = figures[name][what]
            print(f"{label:<30} {name:<10} median {statistics.median(values):6.1f} µs over {len(values)} rounds")
        if len(trees) == 2:
            first, second = (statistics.median(figures[name][what]) for name, _ in trees)
            print(f"{'':<30} ratio {trees[0][0]} / {trees[1][0]}: {first / second:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
