#!/usr/bin/env python3
"""Issue 16 steps 1-2, before → after side by side in one run (a script, not a test).

Each round builds, for every checkout given (``--before``: e.g. an export of the base commit; ``--after``: this
checkout by default), a fresh SQLCipher vault of N full users (the load generator's user) in a child process that
imports that checkout's ``app``, and measures there, in process so the two cores' other load weighs on both alike:

* the vault's size against its users' JSON documents (after ``optimize`` and a WAL checkpoint);
* GET by id as the HTTP handler renders it (the row read, the body encoded to bytes);
* ``userName eq`` and ``emails[type eq "work"].value eq`` lists, encoded to bytes;
* a walk of every user by pages of 100 (startIndex), unsorted and sorted by userName, encoded to bytes;
* a walk sorted by name.familyName by cursor, encoded to bytes.

Times are the measuring process's CPU time (``time.process_time``), each the median of 3 batches after a
warm-up: on two cores shared with other work, wall-clock figures moved by 3x between rounds of the same code.
Rounds alternate the checkouts (before, after, before, after…); the table shows each figure's median over the
rounds, and the ratio first/last (> 1: the last is faster or smaller).

    git archive <base> | tar -x -C /tmp/before
    python benchmarks/bench_pages_compare.py --checkout before=/tmp/before --checkout after=. --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    ("vault_ratio", "vault size / JSON documents", "x"),
    ("get_ms", "GET by id (render to bytes)", "ms"),
    ("username_ms", "userName eq list", "ms"),
    ("email_ms", 'emails[type eq "work"].value eq list', "ms"),
    ("walk_s", "walk by pages of 100 (startIndex)", "s"),
    ("sorted_walk_s", "walk sorted by userName (startIndex)", "s"),
    ("family_walk_s", "walk sorted by name.familyName (cursor)", "s"),
)

CHILD = r'''
import json, statistics, sys, tempfile, time, uuid
from datetime import UTC, datetime
from pathlib import Path
root, users, sample = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [str(root), str(root / "benchmarks")]
from bench_server import new_user, user_name, work_email
from app.directory import repository as repo
from app.directory import query
from app.scim.service import ScimService
from app.store.vault import Vault
from tests.policy_support import hold_everything
BASE = "https://bench.invalid/scim/v2"

def encoded(body):
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

def listed(vault, params):
    if hasattr(query, "search_json"):
        return query.search_json(vault, None, BASE, ("User",), params)[0]
    return encoded(query.search(vault, None, BASE, ("User",), params))

def per_call_ms(action, items):
    """Median over 3 batches of the time per call, in ms, after a warm-up call on a few items."""
    for item in items[:20]:
        action(item)
    runs = []
    for batch in range(3):
        chunk = items[batch::3]
        started = time.process_time()
        for item in chunk:
            action(item)
        runs.append((time.process_time() - started) * 1000 / len(chunk))
    return statistics.median(runs)

def walk_s(pages):
    """Median of 3 walks, in s (each page built and encoded)."""
    runs = []
    for _ in range(3):
        started = time.process_time()
        pages()
        runs.append(time.process_time() - started)
    return statistics.median(runs)

def by_index(sort_by):
    for start in range(1, users + 1, 100):
        listed(vault, query.QueryParams(start_index=start, count=100, sort_by=sort_by))

def by_cursor(sort_by):
    cursor, pages = "", 0
    while cursor is not None and pages <= users // 100 + 1:
        body = json.loads(listed(vault, query.QueryParams(cursor=cursor, count=100, sort_by=sort_by)))
        cursor, pages = body.get("nextCursor"), pages + 1

out = {}
with tempfile.TemporaryDirectory(prefix="custos-bench-compare-") as folder:
    vault = Vault.create(Path(folder), "bench-passphrase-only", "bench-passphrase-only")
    hold_everything(vault)
    now, ids = datetime.now(UTC), [str(uuid.uuid4()) for _ in range(users)]
    with vault.write_transaction() as conn:
        for i, resource_id in enumerate(ids):
            repo.insert_resource(conn, "User", resource_id, new_user(i), now)
    vault.optimize()
    with vault.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    documents = sum(len(json.dumps(new_user(i), separators=(",", ":"))) for i in range(users))
    out["vault_ratio"] = (Path(folder) / "custos.vault").stat().st_size / documents
    service = ScimService(vault, BASE)
    picks = [ids[(i * 7919) % users] for i in range(sample)]
    if hasattr(service, "get_json"):
        out["get_ms"] = per_call_ms(lambda rid: service.get_json("User", rid).body, picks)
    else:
        out["get_ms"] = per_call_ms(lambda rid: encoded(service.get("User", rid).body), picks)
    names = [query.QueryParams(filter=f'userName eq "{user_name((i * 7919) % users)}"') for i in range(sample)]
    out["username_ms"] = per_call_ms(lambda p: listed(vault, p), names)
    mails = [
        query.QueryParams(filter=f'emails[type eq "work"].value eq "{work_email((i * 7919) % users)}"')
        for i in range(sample)
    ]
    out["email_ms"] = per_call_ms(lambda p: listed(vault, p), mails)
    out["walk_s"] = walk_s(lambda: by_index(None))
    out["sorted_walk_s"] = walk_s(lambda: by_index("userName"))
    out["family_walk_s"] = walk_s(lambda: by_cursor("name.familyName"))
    service.close()
    vault.close()
print(json.dumps(out))
'''


def run(checkout: Path, users: int, sample: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkout), str(users), str(sample)],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{checkout}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--checkout", action="append", required=True, metavar="LABEL=PATH", help="a checkout to measure (repeat)"
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000, help="GETs and filtered lists per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    checkouts = [(label, Path(path).resolve()) for label, _, path in (item.partition("=") for item in args.checkout)]
    figures: dict[str, list[dict[str, float]]] = {label: [] for label, _path in checkouts}
    for round_number in range(args.rounds):
        for label, checkout in checkouts:
            figures[label].append(run(checkout, args.users, args.sample))
            print(f"round {round_number + 1} {label}: {figures[label][-1]}", file=sys.stderr, flush=True)
    labels = [label for label, _path in checkouts]
    print(f"issue 16 steps 1-2 at {args.users:,} users, medians of {args.rounds} rounds (CPU time of the process)")
    print(f"{'figure':<46}" + "".join(f"{label:>12}" for label in labels) + f"{labels[0] + '/' + labels[-1]:>16}")
    for key, label, unit in FIGURES:
        values = [statistics.median(run[key] for run in figures[name]) for name in labels]
        cells = "".join(f"{value:>12.3f}" for value in values)
        print(f"{label + f' ({unit})':<46}{cells}{values[0] / values[-1]:>15.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
