#!/usr/bin/env python3
"""Custos against the reference SCIM server, side by side in one run (a script, not a test).

Starts both servers on loopback: Custos (``main.py serve``, HTTPS, a durable encrypted vault in a temporary data
folder) and the reference ``scim2-server`` (a test dependency; plain HTTP, in memory). The same load generator
(``--concurrency`` keep-alive clients, from bench_server.py) then runs the same phases against each, one server
at a time so they never share the two cores: N creates, GET by id, ``userName eq``, the
``emails[type eq "work"].value eq`` value-path filter, a walk of every user by pages of 100 (startIndex), the
same walk sorted by userName, PATCH and DELETE. Every loop is bounded (a request count and ``--phase-seconds``).
It prints rates and the ratio Custos / reference per phase.

    python benchmarks/bench_vs_reference.py            # 10,000 users
    python benchmarks/bench_vs_reference.py --users 1000 --phase-seconds 10   # a quick run
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import (
    DEFAULT_PASSPHRASE,
    PATCH_SCHEMA,
    ROOT,
    LoadGenerator,
    PhaseResult,
    Req,
    Server,
    dumps,
    log,
    new_user,
    proc_cpu_seconds,
    user_name,
    work_email,
)

REFERENCE_TOKEN = "bench-reference-token"


class ReferenceServer:
    """``scim2_server.testserver.cli`` as a subprocess on a free loopback port (its data lives in memory)."""

    def __init__(self, start_timeout: float = 30.0) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{port}/v2"
        self.token = REFERENCE_TOKEN
        self.cert = None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scim2_server.testserver.cli", "--port", str(port), "--bearer-token", self.token],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self.proc.pid
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            try:
                headers = {"Authorization": f"Bearer {self.token}"}
                if httpx.get(f"{self.base_url}/ServiceProviderConfig", headers=headers).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("scim2-server did not start")

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def stop(self) -> dict[str, Any]:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # only our own child, by its pid
                self.proc.wait(10)
        return {"returncode": self.proc.returncode}


class PlainLoadGenerator(LoadGenerator):
    """The same load generator over plain HTTP (the reference server has no TLS)."""

    def new_client(self, timeout: float = 120.0) -> httpx.Client:
        transport = httpx.HTTPTransport(
            retries=0,
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=None),
        )
        return httpx.Client(
            base_url=self.server.base_url,
            transport=transport,
            headers={
                "Authorization": f"Bearer {self.server.token}",
                "Content-Type": "application/scim+json",
                "Accept": "application/scim+json",
            },
            timeout=timeout,
        )


def _quoted(value: str) -> str:
    return urllib.parse.urlencode({"filter": value})


def run_phases(
    load: LoadGenerator, users: int, sample: int, seconds: float, patch_status: int
) -> dict[str, dict[str, Any]]:
    """The same phases, in the same order, against one server; returns per-phase figures."""
    results: dict[str, dict[str, Any]] = {}

    def record(key: str, result: PhaseResult) -> None:
        summary = result.summary()
        results[key] = summary
        log(
            f"  {key}: {summary['rate_per_s']}/s over {summary['requests']} requests, p50 {summary['p50_ms']} ms, "
            f"server CPU {summary['server_cpu_ms_per_req']} ms/req, errors {summary['errors']}"
            + (f" ({summary['first_error']})" if summary["first_error"] else "")
        )

    creates = [Req("POST", "/Users", dumps(new_user(i)), 201) for i in range(users)]
    created = load.run("create", creates, keep_bodies=True)
    record("create", created)
    ids = [json.loads(body)["id"] for body in created.bodies if body]
    if not ids:
        raise RuntimeError("no user was created")
    picks = [i % len(ids) for i in range(sample)]
    record("get", load.run("get", [Req("GET", f"/Users/{ids[i]}") for i in picks], time_limit=seconds))
    by_name = [Req("GET", "/Users?" + _quoted(f'userName eq "{user_name(i % users)}"')) for i in range(sample)]
    record("username", load.run("username", by_name, time_limit=seconds))
    by_mail = [
        Req("GET", "/Users?" + _quoted(f'emails[type eq "work"].value eq "{work_email(i % users)}"'))
        for i in range(sample)
    ]
    record("email", load.run("email", by_mail, time_limit=seconds))
    pages = [Req("GET", f"/Users?startIndex={start}&count=100") for start in range(1, users + 1, 100)]
    walk = load.run("walk", pages, threads=1, time_limit=max(seconds, 60.0))
    record("walk", walk)
    results["walk"]["walk_s"] = walk.seconds * len(pages) / walk.requests if walk.requests else float("nan")
    ordered = [Req("GET", f"/Users?startIndex={s}&count=100&sortBy=userName") for s in range(1, users + 1, 100)]
    sorted_walk = load.run("sorted_walk", ordered, threads=1, time_limit=max(seconds, 60.0))
    record("sorted_walk", sorted_walk)
    results["sorted_walk"]["walk_s"] = (
        sorted_walk.seconds * len(ordered) / sorted_walk.requests if sorted_walk.requests else float("nan")
    )
    patch = dumps(
        {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": "Principal Engineer"}]}
    )
    patches = [Req("PATCH", f"/Users/{ids[i]}", patch, patch_status) for i in picks]
    record("patch", load.run("patch", patches, time_limit=seconds))
    deletes = [Req("DELETE", f"/Users/{resource_id}", None, 204) for resource_id in ids[:sample]]
    record("delete", load.run("delete", deletes, time_limit=seconds))
    return results


def against(
    make: Callable[[], Any], loader: type[LoadGenerator], args: argparse.Namespace, patch_status: int
) -> dict[str, Any]:
    """``patch_status``: Custos answers a PATCH with the resource (200), the reference with 204 (both allowed)."""
    server = make()
    load = loader(server, args.concurrency)
    try:
        return run_phases(load, args.users, min(args.sample, args.users), args.phase_seconds, patch_status)
    finally:
        load.close()
        server.stop()


PHASES = (
    ("create", "creates /s"),
    ("patch", "PATCH /s"),
    ("delete", "DELETE /s"),
    ("get", "GET by id /s"),
    ("username", "userName eq /s"),
    ("email", 'emails[type eq "work"].value eq /s'),
)


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per phase, the median rate and the median server CPU per request over the rounds (and the walk's time)."""
    merged: dict[str, Any] = {}
    for key, _ in (*PHASES, ("walk", "")):
        rates = [r[key]["rate_per_s"] for r in rounds]
        cpu = [r[key]["server_cpu_ms_per_req"] for r in rounds if r[key]["server_cpu_ms_per_req"] is not None]
        merged[key] = {
            "rate_per_s": statistics.median(rates),
            "server_cpu_ms_per_req": round(statistics.median(cpu), 3) if cpu else None,
            "rounds": rates,
        }
    merged["walk"]["walk_s"] = statistics.median(r["walk"]["walk_s"] for r in rounds)
    return merged


def table(columns: list[tuple[str, dict[str, Any]]], reference: dict[str, Any], users: int, rounds: int) -> str:
    """One column per Custos tree (e.g. before and after), the reference, and each tree's ratio to it."""
    names = [name for name, _ in columns]
    head = f"{'phase':<38}" + "".join(f" {name:>18}" for name in [*names, "reference"])
    head += "".join(f" {'ratio ' + name:>14}" for name in names)
    lines = [f"Custos vs scim2-server at {users:,} users (medians of {rounds} round(s))", head]
    for key, label in PHASES:
        theirs = reference[key]
        cells, ratios = [], []
        for _, ours in columns:
            mine = ours[key]
            cells.append(f"{mine['rate_per_s']:,.1f} ({mine['server_cpu_ms_per_req']} ms)")
            ratio = mine["rate_per_s"] / theirs["rate_per_s"] if theirs["rate_per_s"] else float("nan")
            ratios.append(f"{ratio:.2f}x")
        cells.append(f"{theirs['rate_per_s']:,.1f} ({theirs['server_cpu_ms_per_req']} ms)")
        lines.append(f"{label:<38}" + "".join(f" {c:>18}" for c in cells) + "".join(f" {r:>14}" for r in ratios))
    walks = (("walk", f"walk of {users:,} by pages of 100 (s)"), ("sorted_walk", "the same, sortBy=userName (s)"))
    for key, label in walks:
        if any(key not in ours for _, ours in columns) or key not in reference:
            continue  # a tree measured before this phase existed
        ref_s = reference[key]["walk_s"]
        cells = [f"{ours[key]['walk_s']:.2f}" for _, ours in columns] + [f"{ref_s:.2f}"]
        ratios = [f"{ref_s / ours[key]['walk_s']:.2f}x" for _, ours in columns]
        lines.append(f"{label:<38}" + "".join(f" {c:>18}" for c in cells) + "".join(f" {r:>14}" for r in ratios))
    lines.append("(rates: requests per second, server CPU per request in brackets; ratio > 1: Custos is faster)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000, help="users created on each server (default 10,000)")
    parser.add_argument("--sample", type=int, default=2_000, help="requests per read/PATCH/DELETE phase at most")
    parser.add_argument("--phase-seconds", type=float, default=20.0, help="time limit of each read/write phase")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections (default 4)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every server, interleaved; medians printed")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another Custos source tree (e.g. `git archive <commit> | tar -x -C DIR`) measured in the same run, "
        "as the 'before' column",
    )
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="a further Custos source tree, measured in the same run in a column of its own (repeatable; in order, "
        "after --baseline and before this tree): one column per step of a change",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    passphrase = os.environ.get("CUSTOS_PASSPHRASE", DEFAULT_PASSPHRASE)
    trees = [("before", args.baseline.resolve())] if args.baseline else []
    for spec in args.tree:
        name, _, folder = spec.partition("=")
        if not name or not folder:
            parser.error("--tree takes NAME=DIR")
        trees.append((name, Path(folder).resolve()))
    trees.append(("after" if trees else "Custos", ROOT))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    runs["reference"] = []
    for round_number in range(1, args.rounds + 1):  # interleaved, so that a noisy minute hits every server alike
        for name, root in trees:
            with tempfile.TemporaryDirectory(prefix="custos-vs-ref-") as folder:
                log(f"round {round_number}: Custos {name} ({root}; HTTPS, durable encrypted vault), {args.users} users")
                make = functools.partial(Server, Path(folder), passphrase, root=root)
                runs[name].append(against(make, LoadGenerator, args, 200))
        log(f"round {round_number}: scim2-server (HTTP, memory), {args.users} users")
        runs["reference"].append(against(ReferenceServer, PlainLoadGenerator, args, 204))
    medians = {name: median_of(figures) for name, figures in runs.items()}
    columns = [(name, medians[name]) for name, _ in trees]
    print(table(columns, medians["reference"], args.users, args.rounds))
    if args.json:
        args.json.write_text(json.dumps({"users": args.users, "runs": runs, "medians": medians}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
