#!/usr/bin/env python3
"""Group handling at scale over real HTTPS, as Entra ID and Okta drive it, side by side across source trees.

One vault is seeded through ``/Bulk`` by the first tree: ``--users`` users (50,000 + spares), one group per size in
``--sizes`` (10 → 1,000 → 10,000 → 50,000 members; created with the first members, then filled by PATCH adds of a few
thousand ids, the way an IdP's initial sync does), and ``--small-groups`` groups of ten that hold the users a DELETE
phase removes (a user who is in many groups). Every run copies that vault and starts one tree's ``main.py serve`` on
the copy; the trees alternate round by round (``--tree before=/work/main --tree after=.``), so they see the same data
on the same machine at the same time. Requests go one at a time on one keep-alive connection: the figure is the time
of one request (client side, TLS included) and the server CPU it cost.

Phases, per group size (each request changes one group by the members it names, then the next puts it back):

* ``add 1`` / ``remove 1 (Entra)``: ``{"op":"add"|"remove","path":"members","value":[{"value":id}]}``, the answer as the
  client gets it by default (the whole group), and ``add 1 excl`` with ``?excludedAttributes=members``;
* ``add 10, one op`` / ``add 10, 10 ops``: Entra's batches, ten ids in one operation or one operation per id;
* ``remove 1 (filter)``: Okta's ``members[value eq "id"]``;
* ``PUT whole group``: Okta's replace with one member swapped (only where the body fits the 1 MiB limit), and
  ``PATCH path-less replace``: the same list as ``{"op":"replace","value":{"members":[…]}}``;
* ``GET group``: ``/Groups/{id}`` with every member; ``GET excl``: the same with ``excludedAttributes=members``;
* ``filter member``: ``/Groups?filter=id eq "G" and members[value eq "U"]&excludedAttributes=members`` (Entra's check);
* ``displayName eq``: ``/Groups?filter=displayName eq "…"&excludedAttributes=members``.

Then, once per run: user creates alone, and while another connection sends one-member PATCHes with the default
answer to the largest group (how long a join to "All staff" holds every other write); user GETs alone, and while
another connection reads the largest group in full; ``GET /Groups?excludedAttributes=members`` (a list);
``GET /Users/{id}`` of a user in every group; ``DELETE /Users/{id}`` of users in every large group and
``--small-groups`` small ones, and of users in none; and the server's peak RSS (VmHWM) before and after the first full
GET of the largest group.

    nice -n 19 .venv/bin/python benchmarks/bench_group_scale.py --tree before=/work/main --tree after=. --rounds 2
    nice -n 19 .venv/bin/python benchmarks/bench_group_scale.py --tree now=. --sizes 10 1000 --users 1200 --rounds 1

Prints, per phase and size, each tree's median time per request (ms; p95 for the phases beside another connection's
large requests) and server CPU per request (ms), and each tree's ratio to the first tree; medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import (
    DEFAULT_PASSPHRASE,
    PATCH_SCHEMA,
    LoadGenerator,
    Req,
    Server,
    dumps,
    log,
    new_user,
    seed_bulk,
)

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
FILL_BATCH = 5000  # ids per PATCH while seeding: well under the 1 MiB body limit
PAYLOAD_LIMIT = 1_048_576
# Phases where another connection's large requests run beside: what they cost shows in the tail, so p95 is printed.
TAILS = frozenset({"create alone", "create beside largest PATCHes", "GET user alone", "GET user beside largest GETs"})


def patch(*operations: dict[str, Any]) -> bytes:
    return dumps({"schemas": [PATCH_SCHEMA], "Operations": list(operations)})


def members(ids: list[str]) -> list[dict[str, str]]:
    return [{"value": member} for member in ids]


def query(path: str, **params: str) -> str:
    return f"{path}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"


# -- seeding ------------------------------------------------------------------------------------------------
def seed(root: Path, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Users, the sized groups and the small groups, in ``folder`` through ``root``'s server."""
    server = Server(folder, DEFAULT_PASSPHRASE, root=root)
    load = LoadGenerator(server, 1)
    client = load.new_client(timeout=1800.0)
    try:
        ids, _stats = seed_bulk(load, range(args.users), "user", 1000)
        users = [ids[i] for i in range(args.users)]
        groups = {size: make_group(client, f"Size {size}", users[:size]) for size in args.sizes}
        small = [make_group(client, f"Small {n}", users[:10]) for n in range(args.small_groups)]
        log(f"seeded {len(users)} users, {len(groups)} sized and {len(small)} small groups")
    finally:
        client.close()
        load.close()
        server.stop()
    largest = max(args.sizes)
    spare = users[largest : largest + 10 * args.repeats]  # in no group: added and removed by the phases
    victims = users[: args.deletes]  # in every sized group and every small one
    loners = users[largest + 10 * args.repeats :]  # in no group
    return {"users": users, "groups": groups, "spare": spare, "victims": victims, "loners": loners}


def make_group(client: Any, name: str, ids: list[str]) -> str:
    first = ids[:FILL_BATCH]
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": members(first)}
    response = client.post("/Groups?excludedAttributes=members", content=dumps(body))
    if response.status_code != 201:
        raise RuntimeError(f"group create: {response.status_code} {response.text[:200]}")
    group_id = response.json()["id"]
    for start in range(FILL_BATCH, len(ids), FILL_BATCH):
        chunk = ids[start : start + FILL_BATCH]
        answer = client.patch(f"/Groups/{group_id}?excludedAttributes=members",
                              content=patch({"op": "add", "path": "members", "value": members(chunk)}))  # fmt: skip
        if answer.status_code != 200:
            raise RuntimeError(f"group fill: {answer.status_code} {answer.text[:200]}")
    return group_id


# -- the phases ---------------------------------------------------------------------------------------------
def size_phases(size: int, group: str, data: dict[str, Any], repeats: int) -> list[tuple[str, list[Req]]]:
    """Each phase's requests on one group; the adds and removes alternate so the group keeps its size."""
    spare, users = data["spare"], data["users"]
    path, quiet = f"/Groups/{group}", f"/Groups/{group}?excludedAttributes=members"
    ones = spare[:repeats]
    tens = [spare[10 * n : 10 * n + 10] for n in range(repeats)]

    def add(ids: list[str]) -> dict[str, Any]:
        return {"op": "add", "path": "members", "value": members(ids)}

    def remove(ids: list[str]) -> dict[str, Any]:
        return {"op": "remove", "path": "members", "value": members(ids)}

    phases: list[tuple[str, list[Req]]] = [
        ("add 1", [Req("PATCH", path, patch(add([u]))) for u in ones]),
        ("remove 1 (Entra)", [Req("PATCH", path, patch(remove([u]))) for u in ones]),
        ("add 1 excl", [Req("PATCH", quiet, patch(add([u]))) for u in ones]),
        ("remove 1 (filter)",
         [Req("PATCH", quiet, patch({"op": "remove", "path": f'members[value eq "{u}"]'})) for u in ones]),
        ("add 10, one op", [Req("PATCH", quiet, patch(add(ten))) for ten in tens]),
        ("remove 10, one op", [Req("PATCH", quiet, patch(remove(ten))) for ten in tens]),
        ("add 10, 10 ops", [Req("PATCH", quiet, patch(*(add([u]) for u in ten))) for ten in tens]),
        ("remove 10, 10 ops", [Req("PATCH", quiet, patch(*(remove([u]) for u in ten))) for ten in tens]),
    ]  # fmt: skip
    whole = [
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": f"Size {size}",
            "members": members([spare[0], *users[1:size]] if n % 2 == 0 else users[:size]),
        }
        for n in range(repeats)
    ]  # one member swapped, then back
    if len(dumps(whole[0])) < PAYLOAD_LIMIT - 1024:
        phases.append(("PUT whole group", [Req("PUT", quiet, dumps(body)) for body in whole]))
        pushes = [patch({"op": "replace", "value": {"members": body["members"]}}) for body in whole]
        phases.append(("PATCH path-less replace", [Req("PATCH", quiet, push) for push in pushes]))
    member = users[size // 2]
    phases += [
        ("GET group", [Req("GET", path)] * repeats),
        ("GET excl", [Req("GET", quiet)] * repeats),
        ("filter member", [Req("GET", query("/Groups", filter=f'id eq "{group}" and members[value eq "{member}"]',
                                            excludedAttributes="members"))] * repeats),
        ("displayName eq", [Req("GET", query("/Groups", filter=f'displayName eq "Size {size}"',
                                             excludedAttributes="members"))] * repeats),
    ]  # fmt: skip
    return phases


def one_run(root: Path, seeded: Path, data: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="custos-groups-") as tmp:
        folder = Path(tmp) / "data"
        shutil.copytree(seeded, folder)
        (folder / "server.log").unlink(missing_ok=True)
        server = Server(folder, DEFAULT_PASSPHRASE, root=root)
        load = LoadGenerator(server, 1)
        out: dict[str, Any] = {}
        try:
            largest = data["groups"][max(args.sizes)]
            before = server.rss_kb()
            measure(load, "first GET of the largest", [Req("GET", f"/Groups/{largest}")], out, 0)
            after = server.rss_kb()
            out["memory"] = {"rss_before_mb": before.get("VmRSS", 0) / 1024,
                             "peak_after_mb": after.get("VmHWM", 0) / 1024}  # fmt: skip
            for size in args.sizes:
                for name, requests in size_phases(size, data["groups"][size], data, args.repeats):
                    measure(load, name, requests, out, size)
            creates_beside_patches(load, largest, data["spare"][0], args.creates, out)
            reads_beside_group_reads(load, largest, data["loners"][0], args.creates, out)
            everyone = [Req("GET", query("/Groups", excludedAttributes="members", count="100"))] * args.repeats
            measure(load, "list groups excl", everyone, out, 0)
            victim = data["victims"][0]
            measure(load, "GET user in all groups", [Req("GET", f"/Users/{victim}")] * args.repeats, out, 0)
            deletes = [Req("DELETE", f"/Users/{u}", expect=204) for u in data["victims"]]
            measure(load, "DELETE user in many groups", deletes, out, 0)
            lone = [Req("DELETE", f"/Users/{u}", expect=204) for u in data["loners"]]
            measure(load, "DELETE user in no group", lone, out, 0)
        finally:
            load.close()
            server.stop()
    return out


def creates_beside_patches(load: LoadGenerator, group: str, member: str, count: int, out: dict[str, Any]) -> None:
    """User creates alone, then while another connection sends Entra's one-member PATCHes (default answer, the
    whole group) to the largest group back to back: what a join to "All staff" costs every other write."""
    measure(load, "create alone", [Req("POST", "/Users", dumps(new_user(n, "alone")), 201) for n in range(count)],
            out, 0)  # fmt: skip
    sent = [0]

    def one_patch(client: Any) -> None:
        op = "add" if sent[0] % 2 == 0 else "remove"
        client.patch(f"/Groups/{group}", content=patch({"op": op, "path": "members", "value": members([member])}))
        sent[0] += 1

    creates = [Req("POST", "/Users", dumps(new_user(n, "beside")), 201) for n in range(count)]
    beside(load, one_patch, lambda: measure(load, "create beside largest PATCHes", creates, out, 0))


def reads_beside_group_reads(load: LoadGenerator, group: str, user: str, count: int, out: dict[str, Any]) -> None:
    """User GETs alone, then while another connection reads the largest group in full back to back: what one
    client reading "All staff" costs every other request."""
    reads = [Req("GET", f"/Users/{user}")] * count
    measure(load, "GET user alone", reads, out, 0)
    beside(load, lambda client: client.get(f"/Groups/{group}"),
           lambda: measure(load, "GET user beside largest GETs", reads, out, 0))  # fmt: skip


def beside(load: LoadGenerator, background: Callable[[Any], object], measured: Callable[[], None]) -> None:
    """``measured()`` while another connection sends ``background`` requests back to back."""
    stop = threading.Event()
    client = load.new_client()

    def loop() -> None:
        while not stop.is_set():
            background(client)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(1.0)  # under way
    try:
        measured()
    finally:
        stop.set()
        thread.join(120)
        client.close()


def measure(load: LoadGenerator, name: str, requests: list[Req], out: dict[str, Any], size: int) -> None:
    if not requests:
        return
    result = load.run(name, requests, threads=1)
    if result.errors:
        raise RuntimeError(f"{name} at {size}: {result.errors} errors, first: {result.first_error}")
    summary = result.summary()
    out.setdefault(name, {})[str(size)] = {"ms": statistics.median(result.latencies_ms), "p95_ms": summary["p95_ms"],
                                           "cpu_ms": summary["server_cpu_ms_per_req"]}  # fmt: skip


# -- the report ---------------------------------------------------------------------------------------------
def report(trees: list[str], runs: dict[str, list[dict[str, Any]]]) -> None:
    first = trees[0]
    phases = [name for name in runs[first][0] if name != "memory"]

    def med(tree: str, phase: str, size: str, key: str) -> float | None:
        values = [run[phase][size][key] for run in runs[tree] if size in run.get(phase, {})]
        return statistics.median(values) if values else None

    for phase in phases:
        sizes = list(runs[first][0][phase])
        label = "" if sizes == ["0"] else " (members: " + ", ".join(f"{int(s):,}" for s in sizes) + ")"
        label += " — p95, not median" if phase in TAILS else ""
        print(f"\n{phase}{label}")
        for tree in trees:
            cells = []
            key = "p95_ms" if phase in TAILS else "ms"
            for size in sizes:
                ms, cpu = med(tree, phase, size, key), med(tree, phase, size, "cpu_ms")
                base = med(first, phase, size, key)
                ratio = f" {ms / base:5.2f}×" if tree != first and ms and base else ""
                cells.append(f"{ms:9.1f} ms (cpu {cpu:7.1f}){ratio}" if ms is not None else f"{'-':>24}")
            print(f"  {tree:8}" + " | ".join(cells))
    print("\nserver RSS around the first GET of the largest group (MB)")
    for tree in trees:
        before = statistics.median(run["memory"]["rss_before_mb"] for run in runs[tree])
        peak = statistics.median(run["memory"]["peak_after_mb"] for run in runs[tree])
        print(f"  {tree:8} {before:7.0f} before, peak {peak:7.0f} after (+{peak - before:.0f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", required=True, help="NAME=DIR, at least one, repeatable")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 10000, 50000])
    parser.add_argument("--users", type=int, default=0, help="default: the largest size + spares + --deletes")
    parser.add_argument("--repeats", type=int, default=7, help="requests per phase and size (median)")
    parser.add_argument("--small-groups", type=int, default=100, help="groups of ten holding the deleted users")
    parser.add_argument("--deletes", type=int, default=5, help="users deleted per DELETE phase (at most 10)")
    parser.add_argument("--creates", type=int, default=40, help="user creates alone and beside the PATCHes")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every tree, alternating")
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    args = parser.parse_args()
    args.users = args.users or max(args.sizes) + 10 * args.repeats + args.deletes
    trees = [(name, Path(path).resolve()) for name, _, path in (t.partition("=") for t in args.tree)]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    with tempfile.TemporaryDirectory(prefix="custos-groups-seed-") as tmp:
        seeded = Path(tmp) / "data"
        seeded.mkdir()
        log(f"seeding {args.users} users with {trees[0][0]}")
        data = seed(trees[0][1], seeded, args)
        for run in range(args.rounds):
            for name, root in trees if run % 2 == 0 else list(reversed(trees)):
                log(f"round {run + 1}: {name}")
                runs[name].append(one_run(root, seeded, data, args))
    report([name for name, _ in trees], runs)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
