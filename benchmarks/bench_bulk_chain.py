#!/usr/bin/env python3
"""How long a Bulk of reverse-chained bulkIds holds the single writer (issue 11 §11). A script, not a test.

Starts the real headless server (``main.py serve``, HTTPS on loopback, fresh vault; ``Server`` from
bench_server.py) and sends ``--ops`` operations where operation i is a Group whose member is ``bulkId:g{i+1}``
and the last one is a User: every operation refers to one that comes after it, the worst order for a server
that resolves references by re-running passes. While the Bulk runs, one client POSTs a User every 20 ms; a
POST waits behind the Bulk as long as the Bulk holds the writer. Prints medians over ``--repeats`` runs:
the Bulk's duration and the longest wait of a concurrent POST.

    .venv/bin/python benchmarks/bench_bulk_chain.py --ops 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import DEFAULT_PASSPHRASE, Server

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def chain(run: int, ops: int) -> dict[str, Any]:
    operations: list[dict[str, Any]] = []
    for i in range(ops - 1):
        group = {"schemas": [GROUP], "displayName": f"chain-{run}-{i}", "members": [{"value": f"bulkId:g{i + 1}"}]}
        operations.append({"method": "POST", "path": "/Groups", "bulkId": f"g{i}", "data": group})
    last = {"schemas": [USER], "userName": f"chain-{run}@example.test"}
    operations.append({"method": "POST", "path": "/Users", "bulkId": f"g{ops - 1}", "data": last})
    return {"schemas": [BULK], "Operations": operations}


def client(server: Server) -> httpx.Client:
    verify = ssl.create_default_context(cafile=str(server.cert))
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/scim+json"}
    return httpx.Client(base_url=server.base_url, verify=verify, headers=headers, timeout=120)


def one_run(server: Server, run: int, ops: int) -> tuple[float, float, int]:
    body = chain(run, ops)
    waits: list[float] = []
    done = threading.Event()

    def prober() -> None:
        with client(server) as http:
            number = 0
            while not done.is_set():
                number += 1
                started = time.perf_counter()
                response = http.post("/Users", json={"schemas": [USER], "userName": f"probe-{run}-{number}@x.test"})
                waits.append(time.perf_counter() - started)
                assert response.status_code == 201, response.text
                time.sleep(0.02)

    with client(server) as http:
        thread = threading.Thread(target=prober, daemon=True)
        started = time.perf_counter()
        thread.start()
        response = http.post("/Bulk", json=body)
        duration = time.perf_counter() - started
        done.set()
        thread.join()
    assert response.status_code == 200, response.text
    statuses = [int(op["status"]) for op in response.json()["Operations"]]
    return duration, max(waits), sum(1 for status in statuses if status == 201)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    passphrase = os.environ.get("CUSTOS_PASSPHRASE", DEFAULT_PASSPHRASE)
    with tempfile.TemporaryDirectory(prefix="custos-bulk-chain-") as folder:
        server = Server(Path(folder), passphrase)
        try:
            client(server).get("/ServiceProviderConfig").raise_for_status()  # warm up
            results = [one_run(server, run, args.ops) for run in range(args.repeats)]
        finally:
            server.stop()
    for duration, wait, created in results:
        print(f"run: bulk {duration:.2f} s, longest concurrent POST wait {wait:.2f} s, {created} created")
    print(f"median bulk duration: {statistics.median(r[0] for r in results):.2f} s")
    print(f"median longest concurrent POST wait: {statistics.median(r[1] for r in results):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
