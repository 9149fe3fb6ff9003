#!/usr/bin/env python3
"""End-to-end benchmark of the headless Custos SCIM server (a script, not a test).

For each size N in ``--sizes`` it starts the real server (``main.py serve --port 0``, HTTPS with the
self-signed certificate) on a fresh temporary data folder, creates a token with ``main.py token create``,
seeds N pseudonymous users and measures, as medians over ``--repeats`` runs:

* creates/s over HTTP POST (each 201 is a durable commit) and creates/s through ``POST /Bulk``;
* GET by id, ``userName eq``, ``emails[type eq "work"].value eq`` filters, PATCH, DELETE (req/s and latency);
* a full walk of all users with cursor pagination (RFC 9865) and with index pagination (startIndex);
* server RSS (VmRSS sampled, VmHWM as the kernel's peak) and server CPU time per phase.

The load generator is ``--concurrency`` threads, each with its own keep-alive ``httpx.Client``
(HTTP/1.1, TCP_NODELAY on the client side, ``verify=`` the server's certificate). Everything stays on
loopback; the server is stopped with SIGTERM at the end. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
# A throwaway vault with generated data; override with CUSTOS_PASSPHRASE. profile_server.py uses the same default.
DEFAULT_PASSPHRASE = "custos-benchmark-only"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ENDPOINT_LINE = re.compile(r"^SCIM endpoint: (\S+) \(TLS SHA-256 ([^)]*)\)")
MAX_BULK_BYTES = 1_000_000  # the server accepts 1 MiB bodies; stay below
CLK_TCK = os.sysconf("SC_CLK_TCK")

GIVEN = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis")
FAMILY = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie")
TITLES = ("Engineer", "Analyst", "Manager", "Designer", "Consultant")

# Targets at 100,000 users: (key, label, comparison, threshold)
TARGETS: dict[str, tuple[str, float]] = {
    "create": (">=", 800),
    "get": (">=", 1500),
    "username": (">=", 1000),
    "username_p95_ms": ("<", 10),
    "username_cost_ratio": ("<=", 1.2),
    "email": (">=", 500),
    "walk_cursor_s": ("<", 30),
    "rss_peak_mb": ("<", 300),
}


# -- generated data ---------------------------------------------------------------------------------------
def user_name(i: int, prefix: str = "user") -> str:
    return f"{prefix}-{i:06d}@example.com"


def work_email(i: int, prefix: str = "user") -> str:
    return f"{prefix}-{i:06d}@work.example.com"


def new_user(i: int, prefix: str = "user") -> dict[str, Any]:
    given, family = GIVEN[i % len(GIVEN)], FAMILY[(i // len(GIVEN)) % len(FAMILY)]
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name(i, prefix),
        "externalId": f"{prefix}-ext-{i:06d}",
        "name": {"givenName": given, "familyName": family},
        "displayName": f"{given} {family}",
        "emails": [
            {"value": work_email(i, prefix), "type": "work", "primary": True},
            {"value": f"{prefix}-{i:06d}@home.example.org", "type": "home"},
        ],
        "title": TITLES[i % len(TITLES)],
        "active": True,
    }


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


# -- statistics -------------------------------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def median(values: Sequence[float]) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


# -- the server under test ----------------------------------------------------------------------------------
def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM of a process in kB."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """Busy CPU time of the whole machine (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class Server:
    """``main.py serve`` as a subprocess on a fresh data folder."""

    def __init__(self, data_dir: Path, passphrase: str, start_timeout: float = 90.0, root: Path = ROOT) -> None:
        """``root``: the source tree whose ``main.py`` runs (another checkout, to compare two versions)."""
        self.data_dir = data_dir
        self.root = root
        self.env = {**os.environ, "CUSTOS_PASSPHRASE": passphrase, "PYTHONUNBUFFERED": "1"}
        self.log_path = data_dir / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [PYTHON, "main.py", "serve", "--port", "0", "--data-dir", str(data_dir)],
            cwd=root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.pid = self.proc.pid
        self.stdout_lines: list[str] = []
        self._endpoint = threading.Event()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        if not self._endpoint.wait(start_timeout) or not self.stdout_lines:
            self.stop()
            raise RuntimeError(f"server did not print its endpoint; see {self.log_path}")
        match = ENDPOINT_LINE.match(self.stdout_lines[0])
        if match is None:
            self.stop()
            raise RuntimeError(f"unexpected first line from the server: {self.stdout_lines[0]!r}")
        self.base_url, self.fingerprint = match.group(1), match.group(2)
        host = httpx.URL(self.base_url).host
        if host not in ("127.0.0.1", "::1", "localhost"):
            self.stop()
            raise RuntimeError("the benchmark only talks to a loopback server")
        self.cert = data_dir / "tls-cert.pem"
        self.token = self._create_token()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            self._endpoint.set()
        self._endpoint.set()

    def _create_token(self) -> str:
        done = subprocess.run(
            [PYTHON, "main.py", "token", "create", "--name", f"bench-{os.urandom(3).hex()}", "--data-dir",
             str(self.data_dir)],  # a fresh name: a copied vault already holds an earlier run's token
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        lines = done.stdout.splitlines()
        if len(lines) < 2 or not lines[1].strip():
            raise RuntimeError("`token create` did not print a secret on its second line")
        return lines[1].strip()

    def rss_kb(self) -> dict[str, int]:
        return proc_status(self.pid)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        result: dict[str, Any] = {"signal": "SIGTERM"}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                result["killed"] = True  # only our own child, by its pid
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(5)
        self._log.close()
        result["returncode"] = self.proc.returncode
        result["clean"] = self.proc.returncode == 0 and "Stopped." in self.stdout_lines
        return result


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.last_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss = proc_status(self.pid).get("VmRSS")
            if rss:
                self.last_kb = rss
                self.peak_kb = max(self.peak_kb, rss)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


# -- the load generator ---------------------------------------------------------------------------------
@dataclass
class Req:
    method: str
    path: str  # relative to the base URL, e.g. "/Users/…" ; query string included
    body: bytes | None = None
    expect: int = 200


@dataclass
class PhaseResult:
    name: str
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float] = field(repr=False)
    server_cpu_s: float
    client_cpu_s: float
    bodies: list[bytes | None] = field(default_factory=list, repr=False)
    first_error: str | None = None
    planned: int = 0
    machine_cpu_s: float = float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "planned": self.planned,
            "truncated": self.requests < self.planned,
            "seconds": round(self.seconds, 4),
            "rate_per_s": round(self.rate, 2),
            "errors": self.errors,
            "first_error": self.first_error,
            "p50_ms": round(percentile(ordered, 50), 3),
            "p95_ms": round(percentile(ordered, 95), 3),
            "p99_ms": round(percentile(ordered, 99), 3),
            "server_cpu_pct": round(100 * self.server_cpu_s / self.seconds, 1) if self.seconds else None,
            "server_cpu_ms_per_req": round(1000 * self.server_cpu_s / self.requests, 3) if self.requests else None,
            "client_cpu_pct": round(100 * self.client_cpu_s / self.seconds, 1) if self.seconds else None,
            # CPU used by anything else on the machine (another benchmark would distort this run)
            "other_cpu_pct": round(
                100 * max(0.0, self.machine_cpu_s - self.server_cpu_s - self.client_cpu_s) / self.seconds, 1
            )
            if self.seconds and self.machine_cpu_s == self.machine_cpu_s
            else None,
        }


class LoadGenerator:
    """``threads`` workers, each with its own keep-alive httpx.Client, pulling requests from a shared list."""

    def __init__(self, server: Server, threads: int) -> None:
        self.server = server
        self.threads = threads
        self.clients = [self.new_client() for _ in range(threads)]

    def new_client(self, timeout: float = 120.0) -> httpx.Client:
        transport = httpx.HTTPTransport(
            verify=str(self.server.cert),
            http1=True,
            http2=False,
            retries=0,
            # The client sends headers and body in separate writes; without NODELAY the client itself would
            # add Nagle/delayed-ACK stalls to every POST/PATCH. Real IdP clients (Go, Java, .NET) set it too.
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

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def run(
        self,
        name: str,
        requests: Sequence[Req],
        keep_bodies: bool = False,
        threads: int | None = None,
        time_limit: float | None = None,
    ) -> PhaseResult:
        """Send every request once (or until ``time_limit`` seconds have passed); rates count completed requests."""
        workers = min(threads or self.threads, len(requests)) or 1
        latencies: list[list[float]] = [[] for _ in range(workers)]
        bodies: list[bytes | None] = [None] * len(requests) if keep_bodies else []
        errors = [0] * workers
        first_error: list[str] = []
        position = iter(range(len(requests)))
        lock = threading.Lock()
        ready = threading.Barrier(workers + 1)
        go = threading.Event()
        deadline = [float("inf")]

        def work(slot: int) -> None:
            client = self.clients[slot]
            try:  # (re)open the keep-alive connection outside the timed window
                client.get("/ServiceProviderConfig")
            finally:
                ready.wait()
            go.wait()
            mine = latencies[slot]
            while True:
                with lock:
                    index = next(position, None) if time.perf_counter() < deadline[0] else None
                if index is None:
                    return
                req = requests[index]
                started = time.perf_counter()
                try:
                    response = client.request(req.method, req.path, content=req.body)
                    status, content = response.status_code, response.content
                except httpx.HTTPError as exc:
                    status, content = -1, repr(exc).encode()
                mine.append((time.perf_counter() - started) * 1000)
                if status != req.expect:
                    errors[slot] += 1
                    if not first_error:
                        first_error.append(f"{req.method} -> {status}: {content[:200]!r}")
                elif keep_bodies:
                    bodies[index] = content

        pool = [threading.Thread(target=work, args=(slot,), daemon=True) for slot in range(workers)]
        for thread in pool:
            thread.start()
        ready.wait()
        cpu0, client0, machine0 = self.server.cpu_seconds(), time.process_time(), machine_busy_seconds()
        started = time.perf_counter()
        if time_limit is not None:
            deadline[0] = started + time_limit
        go.set()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu1, client1, machine1 = self.server.cpu_seconds(), time.process_time(), machine_busy_seconds()
        done = sum(len(chunk) for chunk in latencies)
        return PhaseResult(
            name,
            done,
            elapsed,
            sum(errors),
            [x for chunk in latencies for x in chunk],
            cpu1 - cpu0,
            client1 - client0,
            bodies,
            first_error[0] if first_error else None,
            len(requests),
            machine1 - machine0,
        )


# -- phases -------------------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def check(result: PhaseResult) -> None:
    if result.errors:
        log(
            f"  WARNING {result.name}: {result.errors}/{result.requests} unexpected responses;"
            f" first: {result.first_error}"
        )
    other = result.summary()["other_cpu_pct"]
    if other is not None and other > 25:
        log(f"  WARNING {result.name}: other processes used {other:.0f}% CPU during this run; the figures are low")


def id_from_location(location: str) -> str:
    return location.rsplit("/", 1)[1]


def bulk_batches(indices: Sequence[int], prefix: str, max_ops: int) -> Iterator[tuple[list[int], bytes]]:
    start = 0
    while start < len(indices):
        size = min(max_ops, len(indices) - start)
        while True:
            chunk = list(indices[start : start + size])
            body = dumps(
                {
                    "schemas": [BULK_SCHEMA],
                    "Operations": [
                        {"method": "POST", "path": "/Users", "bulkId": f"{prefix}{i}", "data": new_user(i, prefix)}
                        for i in chunk
                    ],
                }
            )
            if len(body) <= MAX_BULK_BYTES or size == 1:
                break
            size //= 2
        yield chunk, body
        start += size


def seed_bulk(
    load: LoadGenerator, indices: Sequence[int], prefix: str, max_ops: int
) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """Seed users through POST /Bulk, one request at a time; returns index -> id and per-request stats."""
    ids: dict[int, str] = {}
    stats: list[dict[str, Any]] = []
    client = load.new_client(timeout=1800.0)
    try:
        for chunk, body in bulk_batches(indices, prefix, max_ops):
            cpu0 = load.server.cpu_seconds()
            started = time.perf_counter()
            response = client.post("/Bulk", content=body)
            elapsed = time.perf_counter() - started
            cpu = load.server.cpu_seconds() - cpu0
            if response.status_code != 200:
                raise RuntimeError(f"bulk request failed: {response.status_code} {response.text[:300]}")
            failed = 0
            for op in response.json()["Operations"]:
                if op.get("status") != "201":
                    failed += 1
                    continue
                ids[int(op["bulkId"][len(prefix) :])] = id_from_location(op["location"])
            if failed:
                raise RuntimeError(f"{failed} bulk operations failed")
            stats.append(
                {
                    "ops": len(chunk),
                    "seconds": round(elapsed, 3),
                    "rate_per_s": round(len(chunk) / elapsed, 2),
                    "server_cpu_pct": round(100 * cpu / elapsed, 1),
                }
            )
            done = sum(s["ops"] for s in stats)
            if len(stats) % 10 == 0 or done == len(indices):
                log(f"  bulk {prefix}: {done}/{len(indices)} ({stats[-1]['rate_per_s']:.0f}/s last request)")
    finally:
        client.close()
    return ids, stats


def walk(load: LoadGenerator, mode: str, expected: int, page: int, time_limit: float) -> dict[str, Any]:
    """Read every user page by page on one connection (as an IdP reconciliation would)."""
    client = load.new_client(timeout=max(120.0, time_limit))
    seen: set[str] = set()
    pages = 0
    max_pages = expected // page + 5
    complete = False
    page_ms: list[float] = []
    try:
        client.get("/ServiceProviderConfig")
        cpu0 = load.server.cpu_seconds()
        started = time.perf_counter()
        cursor: str | None = ""
        start_index = 1
        while pages < max_pages:
            if mode == "cursor":
                params: dict[str, Any] = {"cursor": cursor, "count": page}
            else:
                params = {"startIndex": start_index, "count": page}
            t0 = time.perf_counter()
            response = client.get("/Users", params=params)
            page_ms.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{mode} walk page {pages + 1}: {response.status_code} {response.text[:300]}")
            body = response.json()
            pages += 1
            resources = body.get("Resources", [])
            seen.update(r["id"] for r in resources)
            if mode == "cursor":
                cursor = body.get("nextCursor")
                if not cursor:
                    complete = True
                    break
            else:
                start_index += len(resources)
                if not resources or start_index > body.get("totalResults", 0):
                    complete = True
                    break
            if time.perf_counter() - started > time_limit:
                break
        elapsed = time.perf_counter() - started
        cpu = load.server.cpu_seconds() - cpu0
    finally:
        client.close()
    ordered = sorted(page_ms)
    return {
        "mode": mode,
        "seconds": round(elapsed, 3),
        "pages": pages,
        "users_seen": len(seen),
        "complete": complete and len(seen) == expected,
        "timed_out": not complete,
        "first_page_ms": round(page_ms[0], 1) if page_ms else None,
        "last_page_ms": round(page_ms[-1], 1) if page_ms else None,
        "p50_page_ms": round(percentile(ordered, 50), 1),
        "server_cpu_pct": round(100 * cpu / elapsed, 1) if elapsed else None,
    }


def patch_op(i: int, run: int) -> dict[str, Any]:
    """Even runs replace ``title``, odd runs flip ``active``."""
    if run % 2 == 0:
        return {"op": "replace", "path": "title", "value": f"{TITLES[(i + run + 1) % len(TITLES)]} {run}"}
    return {"op": "replace", "path": "active", "value": bool(i % 2)}


def filter_path(expression: str) -> str:
    return "/Users?" + urllib.parse.urlencode({"filter": expression}, quote_via=urllib.parse.quote)


def bench_size(n: int, args: argparse.Namespace, passphrase: str) -> dict[str, Any]:
    rng = random.Random(args.seed + n)
    data_dir = Path(tempfile.mkdtemp(prefix=f"custos-bench-{n}-"))
    log(f"size {n:,}: data dir {data_dir}")
    out: dict[str, Any] = {"users": n, "data_dir": str(data_dir)}
    server = Server(data_dir, passphrase)
    sampler = RssSampler(server.pid)
    sampler.start()
    load = LoadGenerator(server, args.concurrency)
    out["server"] = {"pid": server.pid, "base_url": server.base_url, "rss_start_kb": server.rss_kb().get("VmRSS")}
    try:
        repeats = args.repeats
        write_batch = max(1, min(args.writes, n // repeats))
        ids: dict[int, str] = {}

        # 1. creates over HTTP: the first repeats × write_batch users, each a durable commit.
        creates = []
        for r in range(repeats):
            indices = range(r * write_batch, (r + 1) * write_batch)
            result = load.run(
                "create", [Req("POST", "/Users", dumps(new_user(i)), 201) for i in indices], keep_bodies=True
            )
            check(result)
            for i, body in zip(indices, result.bodies, strict=True):
                if body:
                    ids[i] = json.loads(body)["id"]
            creates.append(result.summary())
            log(f"  create run {r + 1}: {result.rate:.1f}/s")
        out["create"] = creates

        # 2. the rest through SCIM Bulk, plus a pool of users that the DELETE phase removes.
        delete_pool = repeats * write_batch
        rest = [i for i in range(n) if i not in ids]  # includes any create that failed
        log(f"  seeding {len(rest):,} users + {delete_pool:,} to delete through /Bulk ({args.bulk_size} ops/request)")
        bulk_started = time.perf_counter()
        seeded, bulk_stats = seed_bulk(load, rest, "user", args.bulk_size)
        ids.update(seeded)
        doomed, more_stats = seed_bulk(load, list(range(delete_pool)), "gone", args.bulk_size)
        bulk_stats += more_stats
        bulk_seconds = time.perf_counter() - bulk_started
        total_ops = sum(s["ops"] for s in bulk_stats)
        out["bulk"] = {
            "requests": bulk_stats,
            "ops": total_ops,
            "seconds": round(bulk_seconds, 2),
            "overall_rate_per_s": round(total_ops / bulk_seconds, 2) if bulk_seconds else None,
            "median_request_rate_per_s": median(
                [s["rate_per_s"] for s in bulk_stats if s["ops"] >= min(args.bulk_size, 100)]
            )
            or median([s["rate_per_s"] for s in bulk_stats]),
        }
        if len(ids) != n:
            raise RuntimeError(f"seeded {len(ids)} users instead of {n}")

        # 3. DELETE the pool (hard delete with secure_delete); afterwards exactly n users remain.
        doomed_ids = [doomed[i] for i in range(delete_pool)]
        deletes = []
        for r in range(repeats):
            chunk = doomed_ids[r * write_batch : (r + 1) * write_batch]
            result = load.run("delete", [Req("DELETE", f"/Users/{i}", None, 204) for i in chunk])
            check(result)
            deletes.append(result.summary())
            log(f"  delete run {r + 1}: {result.rate:.1f}/s")
        out["delete"] = deletes

        all_indices = list(range(n))
        load.run("warm-up", [Req("GET", f"/Users/{ids[rng.choice(all_indices)]}") for _ in range(min(200, args.reads))])

        def read_phase(name: str, make: Callable[[int], Req]) -> list[dict[str, Any]]:
            runs = []
            for r in range(repeats):
                reqs = [make(rng.choice(all_indices)) for _ in range(args.reads)]
                result = load.run(name, reqs, keep_bodies=name != "get", time_limit=args.time_limit)
                check(result)
                if name != "get":  # every lookup must find exactly its one user
                    wrong = sum(1 for b in result.bodies if b is not None and json.loads(b)["totalResults"] != 1)
                    if wrong:
                        log(f"  WARNING {name}: {wrong} lookups did not return exactly one user")
                    result.bodies = []
                runs.append(result.summary())
                cut = (
                    f" (stopped after {result.requests} of {result.planned} at the time limit)"
                    if runs[-1]["truncated"]
                    else ""
                )
                log(f"  {name} run {r + 1}: {result.rate:.1f}/s p95 {runs[-1]['p95_ms']:.1f} ms{cut}")
            return runs

        # 4. reads
        out["get"] = read_phase("get", lambda i: Req("GET", f"/Users/{ids[i]}"))
        out["username"] = read_phase("username", lambda i: Req("GET", filter_path(f'userName eq "{user_name(i)}"')))
        out["email"] = read_phase(
            "email", lambda i: Req("GET", filter_path(f'emails[type eq "work"].value eq "{work_email(i)}"'))
        )
        serial = load.run(
            "username-serial",
            [
                Req("GET", filter_path(f'userName eq "{user_name(rng.choice(all_indices))}"'))
                for _ in range(args.serial)
            ],
            threads=1,
            time_limit=args.time_limit,
        )
        check(serial)
        out["username_serial"] = serial.summary()
        log(
            f"  username serial: p50 {out['username_serial']['p50_ms']:.1f} ms"
            f" p95 {out['username_serial']['p95_ms']:.1f} ms"
        )

        # 5. PATCH: replace title (even runs) or active (odd runs) on distinct random users.
        patches = []
        for r in range(repeats):
            chosen = rng.sample(all_indices, min(write_batch, n))
            reqs = [
                Req("PATCH", f"/Users/{ids[i]}", dumps({"schemas": [PATCH_SCHEMA], "Operations": [patch_op(i, r)]}))
                for i in chosen
            ]
            result = load.run("patch", reqs)
            check(result)
            patches.append(result.summary())
            log(f"  patch run {r + 1}: {result.rate:.1f}/s")
        out["patch"] = patches

        # 6. full walks
        for mode in ("cursor", "index"):
            runs = []
            for r in range(repeats):
                result = walk(load, mode, n, args.page_size, args.walk_timeout)
                runs.append(result)
                log(
                    f"  {mode} walk run {r + 1}: {result['seconds']:.1f} s, {result['pages']} pages"
                    f"{'' if result['complete'] else ' (INCOMPLETE)'}"
                )
                if result["timed_out"]:
                    break  # do not repeat a walk that hit the time limit
            out[f"walk_{mode}"] = runs
    finally:
        load.close()
        sampler.stop()
        status = server.rss_kb()
        out["rss"] = {
            "sampled_peak_kb": sampler.peak_kb,
            "hwm_kb": status.get("VmHWM"),
            "end_kb": status.get("VmRSS"),
        }
        out["stop"] = server.stop()
        log(f"  server stopped: {out['stop']}")
        if args.keep_data:
            log(f"  kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            out["data_dir"] = None
    out["medians"] = medians(out)
    return out


def medians(out: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = {}
    for key in ("create", "get", "username", "email", "patch", "delete"):
        runs = out.get(key, [])
        m[key] = median([r["rate_per_s"] for r in runs])
        for p in (
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "server_cpu_ms_per_req",
            "server_cpu_pct",
            "client_cpu_pct",
            "other_cpu_pct",
        ):
            m[f"{key}_{p}"] = median([r[p] for r in runs])
    m["bulk"] = out.get("bulk", {}).get("median_request_rate_per_s")
    serial = out.get("username_serial") or {}
    m["username_serial_p50_ms"], m["username_serial_p95_ms"] = serial.get("p50_ms"), serial.get("p95_ms")
    for mode in ("cursor", "index"):
        runs = out.get(f"walk_{mode}", [])
        complete = [r["seconds"] for r in runs if r["complete"]]
        m[f"walk_{mode}_s"] = median(complete)
        m[f"walk_{mode}_complete"] = bool(runs) and len(complete) == len(runs)
        if runs and not complete:
            m[f"walk_{mode}_s_lower_bound"] = max(r["seconds"] for r in runs)
    rss = out.get("rss", {})
    peak = max(rss.get("hwm_kb") or 0, rss.get("sampled_peak_kb") or 0)
    m["rss_peak_mb"] = round(peak / 1024, 1) if peak else None
    m["rss_end_mb"] = round(rss["end_kb"] / 1024, 1) if rss.get("end_kb") else None
    return m


# -- report ---------------------------------------------------------------------------------------------------
def verdict(key: str, value: float | None) -> str:
    if key not in TARGETS:
        return ""
    if value is None:
        return "n/a"
    op, threshold = TARGETS[key]
    ok = {">=": value >= threshold, "<": value < threshold, "<=": value <= threshold}[op]
    return "met" if ok else "MISSED"


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def report(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    per = {s["users"]: s["medians"] for s in sizes}
    ns = [s["users"] for s in sizes]
    largest = max(ns)
    smallest = min(ns)
    ratio = results.get("username_cost_ratio")
    rows: list[tuple[str, str, list[str], str, str]] = []

    def row(label: str, key: str | None, values: list[Any], target: str = "", digits: int = 1) -> None:
        target_value = per[largest].get(key) if key else None
        if key == "walk_cursor_s" and target_value is None:
            target_value = per[largest].get("walk_cursor_s_lower_bound")
        rows.append(
            (
                label,
                key or "",
                [fmt(v, digits) for v in values],
                target,
                verdict(key, target_value) if key and target else "",
            )
        )

    m = [per[n] for n in ns]
    row("creates/s (HTTP POST, durable)", "create", [x["create"] for x in m], ">= 800/s")
    row("bulk creates/s (1000 ops/request)", "bulk", [x["bulk"] for x in m])
    row("GET by id /s", "get", [x["get"] for x in m], ">= 1,500/s")
    row("userName eq /s", "username", [x["username"] for x in m], ">= 1,000/s")
    row("  latency p50 ms (loaded)", "username_p50_ms", [x["username_p50_ms"] for x in m], digits=2)
    row("  latency p95 ms (loaded)", "username_p95_ms", [x["username_p95_ms"] for x in m], "< 10 ms", digits=2)
    row("  latency p99 ms (loaded)", "username_p99_ms", [x["username_p99_ms"] for x in m], digits=2)
    row(
        "  latency p50/p95 ms (1 client)",
        None,
        [f"{fmt(x['username_serial_p50_ms'], 1)}/{fmt(x['username_serial_p95_ms'], 1)}" for x in m],
    )
    row("  server CPU ms/request", None, [x["username_server_cpu_ms_per_req"] for x in m], digits=2)
    row('emails[type eq "work"].value /s', "email", [x["email"] for x in m], ">= 500/s")
    row("  latency p95 ms (loaded)", None, [x["email_p95_ms"] for x in m], digits=2)
    row("PATCH /s (title / active)", "patch", [x["patch"] for x in m])
    row("DELETE /s", "delete", [x["delete"] for x in m])
    row(
        "full walk, cursor count=1000 (s)",
        "walk_cursor_s",
        [
            x["walk_cursor_s"] if x["walk_cursor_s"] is not None else f">{fmt(x.get('walk_cursor_s_lower_bound'))}"
            for x in m
        ],
        "< 30 s",
    )
    row(
        "full walk, startIndex count=1000 (s)",
        None,
        [
            x["walk_index_s"] if x["walk_index_s"] is not None else f">{fmt(x.get('walk_index_s_lower_bound'))}"
            for x in m
        ],
    )
    row("server RSS peak (MiB)", "rss_peak_mb", [x["rss_peak_mb"] for x in m], "< 300 MB")
    row("server RSS at end (MiB)", None, [x["rss_end_mb"] for x in m])
    rows.append(
        (
            f"userName eq cost {largest:,} vs {smallest:,}",
            "username_cost_ratio",
            ["" for _ in ns[:-1]] + [fmt(ratio, 2) + "x" if ratio is not None else "-"],
            "<= 1.2x",
            verdict("username_cost_ratio", ratio) if len(ns) > 1 else "n/a",
        )
    )
    cpu_ratio = results.get("username_cpu_cost_ratio")
    rows.append(
        (
            "  same, by server CPU per request",
            "",
            ["" for _ in ns[:-1]] + [fmt(cpu_ratio, 2) + "x" if cpu_ratio is not None else "-"],
            "",
            "",
        )
    )

    label_w = max(len(r[0]) for r in rows) + 2
    col_w = max(12, *(len(f"{n:,} users") + 2 for n in ns), *(len(v) + 2 for r in rows for v in r[2]))
    header = (
        "metric".ljust(label_w)
        + "".join(f"{n:,} users".rjust(col_w) for n in ns)
        + "  "
        + "target".ljust(12)
        + "verdict"
    )
    lines = [header, "-" * len(header)]
    for label, _key, values, target, v in rows:
        lines.append(label.ljust(label_w) + "".join(x.rjust(col_w) for x in values) + "  " + target.ljust(12) + v)
    cfg = results["config"]
    for n, x in zip(ns, m, strict=True):
        busy = {k: x.get(f"{k}_other_cpu_pct") for k in ("create", "get", "username", "email", "patch", "delete")}
        busy = {k: v for k, v in busy.items() if v is not None and v > 25}
        if busy:
            worst = ", ".join(f"{k} {v:.0f}%" for k, v in busy.items())
            lines.append(f"NOTE {n:,} users: other processes used CPU during the runs ({worst}); those figures are low")
    lines.append("")
    lines.append(
        f"medians of {cfg['repeats']} runs; {cfg['concurrency']} client threads (keep-alive httpx, TLS); "
        f"{cfg['reads']} reads / {cfg['writes']} writes per run; targets judged at {largest:,} users"
        + ("" if largest == 100_000 else " (targets are defined at 100,000)")
    )
    return "\n".join(lines)


def git_state() -> dict[str, Any]:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": run("git", "rev-parse", "HEAD"),
        "dirty": bool(run("git", "status", "--porcelain", "--", "app", "main.py")),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated user counts (default: 10000,100000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; medians are reported (default 3)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="client threads / keep-alive connections (default 16)"
    )
    parser.add_argument("--reads", type=int, default=2000, help="requests per read run (default 2000)")
    parser.add_argument("--writes", type=int, default=1000, help="creates / PATCHes / DELETEs per run (default 1000)")
    parser.add_argument("--serial", type=int, default=200, help="single-client userName lookups for unloaded latency")
    parser.add_argument("--bulk-size", type=int, default=1000, help="operations per /Bulk request (max 1000)")
    parser.add_argument("--page-size", type=int, default=1000, help="count= for the paginated walks (default 1000)")
    parser.add_argument("--walk-timeout", type=float, default=300.0, help="give up a walk after this many seconds")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="stop a read run after this many seconds and rate what completed (default 60)",
    )
    parser.add_argument("--seed", type=int, default=20240601, help="random seed for the request mix")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data folders")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--report", type=Path, metavar="JSON", help="only print the table of an earlier results file")
    args = parser.parse_args(argv)
    if args.report:
        return rerender(args.report)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 10 or args.repeats < 1 or args.concurrency < 1 or not 1 <= args.bulk_size <= 1000:
        parser.error("sizes must be >= 10, repeats/concurrency >= 1, bulk size 1..1000")
    passphrase = os.environ.get("CUSTOS_PASSPHRASE") or DEFAULT_PASSPHRASE

    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()} | {"sizes": sizes},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "git": git_state(),
        "targets_at_100k": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
        "sizes": [],
    }
    started = time.perf_counter()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        results["sizes"].append(bench_size(n, args, passphrase))
        results["elapsed_s"] = round(time.perf_counter() - started, 1)
        args.output.write_text(json.dumps(results, indent=2) + "\n")  # partial results survive a later failure
    finish(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(results["table"]))
    print(f"\nJSON: {args.output}  (total {results['elapsed_s']:.0f} s)")
    return 0


def finish(results: dict[str, Any]) -> None:
    """Cross-size figures, verdicts at the largest size, and the printed table."""
    small, large = results["sizes"][0]["medians"], results["sizes"][-1]["medians"]
    if len(results["sizes"]) > 1 and small["username"] and large["username"]:
        results["username_cost_ratio"] = round(small["username"] / large["username"], 3)  # cost = 1 / throughput
        if small["username_server_cpu_ms_per_req"] and large["username_server_cpu_ms_per_req"]:
            results["username_cpu_cost_ratio"] = round(
                large["username_server_cpu_ms_per_req"] / small["username_server_cpu_ms_per_req"], 3
            )
    judged = dict(large)
    judged["username_cost_ratio"] = results.get("username_cost_ratio")
    if judged.get("walk_cursor_s") is None:
        judged["walk_cursor_s"] = large.get("walk_cursor_s_lower_bound")
    results["verdicts"] = {key: verdict(key, judged.get(key)) for key in TARGETS}
    results["table"] = report(results).splitlines()


def rerender(path: Path) -> int:
    """Print the table again from a results file (e.g. after editing the report code)."""
    results = json.loads(path.read_text())
    for size in results["sizes"]:
        size["medians"] = medians(size)
    finish(results)
    print("\n".join(results["table"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
