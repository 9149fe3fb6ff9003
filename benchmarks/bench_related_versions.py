#!/usr/bin/env python3
"""What the new versions of related resources cost the writer (decision 0047), in process on a real SQLCipher vault.

A group of ``--members`` users is created, renamed, given and relieved of one member, replaced with the same list,
and deleted, ``--rounds`` times; each call is timed (wall and the process's CPU, which includes the writer thread)
with ``excludedAttributes=members`` so that the answer does not read the member list. On a tree with decision 0047,
the statement that gives every member a new version is also timed alone, with its commit. Run it once per tree,
alternating, on the same machine:

    PYTHONPATH=/work/main nice -n 19 .venv/bin/python benchmarks/bench_related_versions.py --members 10000
    PYTHONPATH=. nice -n 19 .venv/bin/python benchmarks/bench_related_versions.py --members 10000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.directory import repository as repo
from app.directory.projection import Projection
from app.scim.service import ScimService
from tests.policy_support import hold_everything

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WITHOUT_MEMBERS = Projection.of(None, "members")


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def _users(service: ScimService, count: int) -> list[str]:
    """``count`` users, a thousand per transaction (seeding, not what is measured)."""
    ids: list[str] = []
    for start in range(0, count, 1000):
        names = [f"u{n:06d}@example.com" for n in range(start, min(count, start + 1000))]
        made = service.in_one_transaction(
            lambda names=names: [service.create("User", {"schemas": [USER], "userName": name}) for name in names]
        )
        ids += [answer.body["id"] for answer in made]
    return ids


class Timings:
    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def __call__(self, name: str, call: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        self.wall.setdefault(name, []).append((time.perf_counter() - wall) * 1000)
        self.cpu.setdefault(name, []).append((time.process_time() - cpu) * 1000)
        return result

    def report(self) -> None:
        for name, values in self.wall.items():
            print(
                f"{name:34s} wall {statistics.median(values):8.1f} ms   CPU {statistics.median(self.cpu[name]):8.1f} ms"
            )


def _round(service: ScimService, ids: list[str], extra: str, n: int, timed: Timings) -> None:
    body = {"schemas": [GROUP], "displayName": f"All {n}", "members": [{"value": member} for member in ids]}
    group = timed("POST group", lambda: service.create("Group", body, WITHOUT_MEMBERS)).body["id"]
    rename = _patch({"op": "replace", "path": "displayName", "value": f"Renamed {n}"})
    timed("PATCH rename", lambda: service.patch("Group", group, rename, projection=WITHOUT_MEMBERS))
    for op in ("add", "remove"):
        one = _patch({"op": op, "path": "members", "value": [{"value": extra}]})
        timed(f"PATCH {op} 1", lambda one=one: service.patch("Group", group, one, projection=WITHOUT_MEMBERS))
    same = _patch({"op": "replace", "path": "members", "value": [{"value": member} for member in ids]})
    timed("PATCH replace with the same list", lambda: service.patch("Group", group, same, projection=WITHOUT_MEMBERS))
    timed("DELETE group", lambda: service.delete("Group", group))
    touch = getattr(repo, "_TOUCH_USERS", None)
    if touch is not None:

        def alone() -> None:
            with service.vault.writer.transaction() as conn:
                touch.execute(conn, {"ids": json.dumps(ids), "modified": datetime.now(UTC)})

        timed("new version for every member alone", alone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-"))
    vault = create_vault(folder, "bench passphrase", "bench passphrase")
    hold_everything(vault)
    service = ScimService(vault, "https://bench.test/scim/v2", EventBus())
    try:
        *ids, extra = _users(service, args.members + 1)
        timed = Timings()
        for n in range(args.rounds):
            _round(service, ids, extra, n, timed)
        print(f"{args.members:,} members, {args.rounds} rounds, medians:")
        timed.report()
    finally:
        service.close()
        vault.close()


if __name__ == "__main__":
    main()
