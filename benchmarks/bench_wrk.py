"""Server throughput with a native load generator (wrk), so the client does not eat the server's CPU.

`bench_server.py` drives the server from Python threads (httpx), which on a 2-core machine costs about as
much CPU as the server itself and caps what it can measure. This script seeds the same data through Bulk,
then measures every request type with `wrk` (Debian package `wrk`) and reports medians over repeated runs.

    apt-get install wrk          # once
    .venv/bin/python benchmarks/bench_wrk.py                     # 10,000 and 100,000 users, 3 runs each
    .venv/bin/python benchmarks/bench_wrk.py --sizes 2000 --repeats 1 --duration 3   # quick check
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import (
    DEFAULT_PASSPHRASE,
    RESULTS,
    LoadGenerator,
    RssSampler,
    Server,
    seed_bulk,
    user_name,
    walk,
    work_email,
)

LUA = Path(__file__).resolve().parent / "wrk"
_LINE = re.compile(r"^(\w+)=([\d.]+)$")


def wrk(
    server: Server, script: str, url_path: str, duration: float, connections: int, data: Path | None
) -> dict[str, float]:
    """One wrk run; the Lua scripts print rate and latency percentiles (ms) in a parseable block."""
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
        "-H",
        f"Authorization: Bearer {server.token}",
        f"{server.base_url}{url_path}",
    ]
    if data is not None:
        command += ["--", str(data)]
    cpu0, started = server.cpu_seconds(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:  # report wrk's own words, never the command line (it holds the token)
        raise RuntimeError(f"wrk failed on {script}: {done.stderr.strip()[:300]}")
    output = done.stdout
    elapsed = time.perf_counter() - started
    figures = {m.group(1): float(m.group(2)) for line in output.splitlines() if (m := _LINE.match(line.strip()))}
    figures["server_cpu_ms_per_req"] = 1000 * (server.cpu_seconds() - cpu0) / max(1.0, figures.get("requests", 1))
    figures["elapsed_s"] = elapsed
    if figures.get("errors", 0) or figures.get("non2xx", 0):
        raise RuntimeError(
            f"{script}: {figures.get('errors')} socket errors, {figures.get('non2xx')} non-2xx\n{output}"
        )
    return figures


def write_lines(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"custos-wrk-{n}-"))
    server = Server(folder, DEFAULT_PASSPHRASE)
    sampler = RssSampler(server.pid)
    sampler.start()
    result: dict[str, Any] = {"users": n}
    try:
        load = LoadGenerator(server, 1)
        started = time.perf_counter()
        ids, _ = seed_bulk(load, list(range(n)), "user", 1000)
        result["seed_bulk_per_s"] = n / (time.perf_counter() - started)
        rng = random.Random(7)
        sample = rng.sample(range(n), min(n, 5000))
        base = urllib.parse.urlsplit(server.base_url).path
        gets = write_lines(folder, "gets.txt", [f"{base}/Users/{ids[i]}" for i in sample])
        names = write_lines(
            folder,
            "names.txt",
            [f"{base}/Users?filter=" + urllib.parse.quote(f'userName eq "{user_name(i)}"') for i in sample],
        )
        emails = write_lines(
            folder,
            "emails.txt",
            [
                f"{base}/Users?filter=" + urllib.parse.quote(f'emails[type eq "work"].value eq "{work_email(i)}"')
                for i in sample
            ],
        )
        patches = write_lines(folder, "patches.txt", [f"{base}/Users/{ids[i]}" for i in sample])
        runs: dict[str, list[dict[str, float]]] = {}
        for repeat in range(args.repeats):
            for name, script, path, data in (
                ("get", "paths.lua", "", gets),
                ("username", "paths.lua", "", names),
                ("email", "paths.lua", "", emails),
                ("patch", "patch.lua", "", patches),
                ("create", "create.lua", "/Users", None),
            ):
                figures = wrk(server, script, path, args.duration, args.connections, data)
                runs.setdefault(name, []).append(figures)
                print(
                    f"  {n} users, run {repeat + 1}, {name}: {figures['rate']:.0f}/s p95 {figures['p95']:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
        result["runs"] = runs
        result["walk_cursor"] = walk(load, "cursor", n + sum(int(r["requests"]) for r in runs["create"]), 1000, 300)
        load.close()
    finally:
        sampler.stop()
        result["rss_peak_mb"] = max(sampler.peak_kb, server.rss_kb().get("VmHWM", 0)) / 1024
        result["stop"] = server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    result["medians"] = {
        name: {
            key: statistics.median(run[key] for run in values)
            for key in ("rate", "p50", "p95", "p99", "server_cpu_ms_per_req")
        }
        for name, values in result["runs"].items()
    }
    return result


def report(results: list[dict[str, Any]]) -> str:
    lines = ["", f"{'measure':<34}" + "".join(f"{r['users']:>14,} users" for r in results)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<34}" + "".join(f"{v:>20}" for v in values))

    for name, label in (
        ("create", "creates/s (durable)"),
        ("get", "GET by id/s"),
        ("username", "userName eq /s"),
        ("email", 'emails[type eq "work"].value eq /s'),
        ("patch", "PATCH/s"),
    ):
        row(label, [f"{r['medians'][name]['rate']:.0f}" for r in results])
        row(
            "  p50 / p95 / p99 ms",
            [
                f"{r['medians'][name]['p50']:.1f}/{r['medians'][name]['p95']:.1f}/{r['medians'][name]['p99']:.1f}"
                for r in results
            ],
        )
        row("  server CPU ms per request", [f"{r['medians'][name]['server_cpu_ms_per_req']:.2f}" for r in results])
    row("bulk seeding users/s", [f"{r['seed_bulk_per_s']:.0f}" for r in results])
    row("full walk, cursor, count=1000 (s)", [f"{r['walk_cursor']['seconds']:.1f}" for r in results])
    row("server RSS peak (MB)", [f"{r['rss_peak_mb']:.0f}" for r in results])
    if len(results) > 1:
        first, last = results[0]["medians"]["username"], results[-1]["medians"]["username"]
        lines.append(
            f"userName eq cost ratio {results[-1]['users']:,} vs {results[0]['users']:,} users "
            f"(server CPU per request): {last['server_cpu_ms_per_req'] / first['server_cpu_ms_per_req']:.2f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    results = [bench_size(int(size), args) for size in args.sizes.split(",")]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "wrk-latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
