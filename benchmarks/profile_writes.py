#!/usr/bin/env python3
"""Where a create, a PATCH and a DELETE spend the server's time: py-spy on the real ``serve`` (a script, not a test).

Starts ``main.py serve`` (HTTPS, durable encrypted vault) as bench_server.py does, runs the write phases with the
same load generator, and samples every thread of the server with py-spy (``--py-spy``: the executable; install
it with ``pip install py-spy``). Each sample's stack is put in the first bucket whose pattern it contains, so the
table reads as "of the server's sampled time during creates, this share was …", and, with the phase's server
CPU per request, as milliseconds per request. Idle threads (waiting on a queue, a lock, epoll) are left out.

    python benchmarks/profile_writes.py --py-spy /tmp/pyspy/bin/py-spy --users 3000
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import DEFAULT_PASSPHRASE, PATCH_SCHEMA, ROOT, LoadGenerator, Req, Server, dumps, log, new_user

# First match wins: the most specific first. Patterns are function names or file paths as py-spy prints them.
BUCKETS = (
    ("commit (SQLCipher page encryption, WAL write, fsync)", ("do_commit", "_commit_impl", ".commit (")),
    ("attribute index rows", ("indexing.py",)),
    ("audit trail append", ("audit/trail.py", "audit/pseudonyms.py")),
    ("outbox enqueue", ("targets/outbox.py",)),
    ("policy / minimisation", ("policy/", "minimise")),
    ("tombstone check", ("tombstones.py",)),
    ("repository SQL", ("repository.py",)),
    ("scim2-models validation", ("scim2_models", "pydantic", "validation.py")),
    ("other SQL (SQLAlchemy + sqlite)", ("sqlalchemy", "sqlcipher3")),
    ("TLS", ("ssl", "sslproto")),
    ("HTTP (uvicorn, starlette, h11/httptools)", ("uvicorn", "starlette", "httptools", "h11")),
    ("JSON", ("json/",)),
)
PER_THREAD: dict[str, collections.Counter[str]] = {}  # phase -> thread name -> CPU seconds
IDLE = ("wait (threading", "_wait_for_tstate_lock", "select (selectors", "poll (", "get (queue", "_worker (concurrent")


_THREAD = re.compile(r"^thread \((\d+)\): ([^;]*);")
TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of ``pid``, from /proc."""
    seconds: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def thread_names(raw: Path) -> dict[int, str]:
    """Thread id -> Python thread name, as py-spy wrote them; pool threads share one name (their prefix)."""
    names: dict[int, str] = {}
    for line in raw.read_text().splitlines():
        match = _THREAD.match(line)
        if match:
            names[int(match.group(1))] = re.sub(r"_\d+$", "_*", match.group(2)) or "(unnamed)"
    return names


def bucket_of(stack: str) -> str | None:
    leaf = stack.rsplit(";", 1)[-1]
    if any(marker in leaf for marker in IDLE):
        return None
    for name, patterns in BUCKETS:
        if any(pattern in stack for pattern in patterns):
            return name
    return "other Python"


def profile_phase(py_spy: str, pid: int, out: Path, run: callable) -> collections.Counter[str]:  # type: ignore[valid-type]
    before = thread_cpu(pid)
    sampler = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--rate", "200", "--threads"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run()
    finally:
        sampler.send_signal(2)  # py-spy writes its file on SIGINT
        sampler.wait(60)
        after = thread_cpu(pid)
    names = thread_names(out)
    per_thread: collections.Counter[str] = collections.Counter()
    for tid, spent in after.items():
        per_thread[names.get(tid, "(other threads)")] += spent - before.get(tid, 0.0)
    PER_THREAD[out.stem] = per_thread
    counts: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        name = bucket_of(stack)
        if name is not None and number.isdigit():
            counts[name] += int(number)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--py-spy", required=True, help="the py-spy executable")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sample", type=int, default=2000, help="PATCHes and DELETEs (of the users created)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the Custos source tree to run")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw stacks (one file per phase) in this folder")
    args = parser.parse_args()
    report: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="custos-profile-writes-") as folder:
        server = Server(Path(folder), DEFAULT_PASSPHRASE, root=args.root)
        load = LoadGenerator(server, args.concurrency)
        try:
            ids: list[str] = []
            patch = dumps({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "title", "value": "X"}]})

            def creates() -> None:
                result = load.run("create", [Req("POST", "/Users", dumps(new_user(i)), 201) for i in range(args.users)],
                                  keep_bodies=True)  # fmt: skip
                ids.extend(json.loads(body)["id"] for body in result.bodies if body)
                report["create"] = {"cpu_ms": result.summary()["server_cpu_ms_per_req"]}

            def patches() -> None:
                result = load.run("patch", [Req("PATCH", f"/Users/{i}", patch, 200) for i in ids[: args.sample]])
                report["patch"] = {"cpu_ms": result.summary()["server_cpu_ms_per_req"]}

            def deletes() -> None:
                result = load.run("delete", [Req("DELETE", f"/Users/{i}", None, 204) for i in ids[: args.sample]])
                report["delete"] = {"cpu_ms": result.summary()["server_cpu_ms_per_req"]}

            for name, run in (("create", creates), ("patch", patches), ("delete", deletes)):
                raw = (args.raw or Path(folder)) / f"{name}.txt"
                raw.parent.mkdir(parents=True, exist_ok=True)
                counts = profile_phase(args.py_spy, server.pid, raw, run)
                total = sum(counts.values()) or 1
                cpu = report[name]["cpu_ms"] or 0.0
                log(f"{name}: server CPU {cpu} ms per request; busy samples {total}")
                for bucket, count in counts.most_common():
                    share = count / total
                    print(f"  {name:<7} {bucket:<55} {100 * share:5.1f} %  {share * cpu:6.2f} ms/req")
                requests = min(len(ids), args.sample) if name != "create" else args.users
                for thread, spent in PER_THREAD[name].most_common():
                    if spent > 0:
                        print(f"  {name:<7} CPU of thread {thread:<40} {1000 * spent / requests:6.3f} ms/req")
        finally:
            load.close()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
