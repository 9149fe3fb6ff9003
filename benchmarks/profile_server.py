#!/usr/bin/env python3
"""In-process cProfile harness for the SCIM request path (companion to bench_server.py; not a test).

It builds the same ASGI application the server runs (``ScimApp`` over ``ScimService`` and a real
SQLCipher vault) and calls it directly, without sockets, TLS or uvicorn, so the numbers are the
server-side CPU cost of each operation. For every operation it prints the time per request without the
profiler, then the top functions by own time and by cumulative time, and saves a ``.pstats`` file to
``benchmarks/results/``.

    .venv/bin/python benchmarks/profile_server.py --users 5000
    .venv/bin/python benchmarks/profile_server.py --data-dir /tmp/custos-bench-100000-xxxx   # a --keep-data vault

The transport part (uvicorn, httptools, TLS, socket options) is not covered here; sample the real server
for that with ``py-spy`` (see README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit.vault_lifecycle import create_vault, unlock_vault

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import (  # noqa: E402
    DEFAULT_PASSPHRASE,
    PATCH_SCHEMA,
    RESULTS,
    dumps,
    new_user,
    patch_op,
    user_name,
    work_email,
)

OPS = ("get", "username", "email", "create", "patch", "delete", "walk")


class ThreadsProfiler:
    """cProfile's interface over every thread. The request path hands its work to other threads (validation to
    the SCIM write pool, every write to the group-commit writer), which cProfile, bound to the calling thread, does
    not see: its tables showed the event loop waiting. With yappi installed (``pip install yappi``; a profiling
    tool, not a dependency of Custos) the CPU time of all threads is profiled; without it, cProfile's main-thread
    view, said so."""

    def __init__(self) -> None:
        try:
            import yappi
        except ImportError:
            print("yappi is not installed: profiling the calling thread only (pip install yappi)", file=sys.stderr)
            self._yappi = None
            self._profile = cProfile.Profile()
        else:
            self._yappi = yappi
            yappi.set_clock_type("cpu")
            yappi.clear_stats()

    def enable(self) -> None:
        if self._yappi is None:
            self._profile.enable()
        else:
            self._yappi.start(builtins=True, profile_threads=True)

    def disable(self) -> None:
        if self._yappi is None:
            self._profile.disable()
        else:
            self._yappi.stop()

    def dump_stats(self, path: Path) -> None:
        if self._yappi is None:
            self._profile.dump_stats(path)
        else:
            self._yappi.get_func_stats().save(str(path), type="pstat")

    def stats_source(self, path: Path) -> Any:
        """What ``pstats.Stats`` reads: the saved file (yappi's pstat export) or the profiler itself."""
        return self._profile if self._yappi is None else str(path)


class AsgiDriver:
    """Calls an ASGI app the way uvicorn would, one request at a time."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.auth = f"Bearer {token}".encode()
        self.loop = asyncio.new_event_loop()

    def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._request(method, target, body))

    async def _request(self, method: str, target: str, body: bytes | None) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        headers = [(b"host", b"127.0.0.1:8443"), (b"authorization", self.auth), (b"accept", b"application/scim+json")]
        if body is not None:
            headers += [(b"content-type", b"application/scim+json"), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "https",
            "path": urllib.parse.unquote(path),
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8443),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body or b"", "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def open_vault(args: argparse.Namespace) -> tuple[Any, Path, bool]:

    passphrase = os.environ.get("CUSTOS_PASSPHRASE") or DEFAULT_PASSPHRASE
    if args.data_dir:
        folder = Path(args.data_dir)
        return unlock_vault(folder, passphrase), folder, False
    folder = Path(tempfile.mkdtemp(prefix="custos-profile-"))
    return create_vault(folder, passphrase), folder, True


def seed(vault: Any, count: int) -> None:
    """Fast seeding for profiling only: the app's own validation and indexing, one transaction per 1000."""
    from scim2_models import Context

    from app.directory import repository as repo
    from app.directory.validation import stored_document, validate_resource
    from app.scim.tolerance import normalise_resource

    started = time.perf_counter()
    for start in range(0, count, 1000):
        with vault.write_transaction() as conn:
            for i in range(start, min(count, start + 1000)):
                model = validate_resource(
                    "User", normalise_resource("User", new_user(i)), Context.RESOURCE_CREATION_REQUEST
                )
                repo.insert_resource(conn, "User", str(uuid.uuid4()), stored_document("User", model), datetime.now(UTC))
    print(f"seeded {count:,} users in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def user_ids(vault: Any) -> dict[str, str]:
    from sqlalchemy import select

    from app.store.models import ScimResource

    with vault.read_session() as session:
        rows = session.execute(
            select(ScimResource.user_name, ScimResource.id).where(ScimResource.resource_type == "User")
        ).all()
    return {name: rid for name, rid in rows if name and name.startswith("user-")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cProfile the SCIM request path in-process.")
    parser.add_argument("--users", type=int, default=5000, help="users to seed into a fresh vault (default 5000)")
    parser.add_argument("--data-dir", help="use an existing benchmark vault instead (bench_server.py --keep-data)")
    parser.add_argument("--requests", type=int, default=300, help="requests per operation (default 300)")
    parser.add_argument("--ops", default=",".join(OPS), help=f"comma-separated subset of {','.join(OPS)}")
    parser.add_argument("--top", type=int, default=18, help="rows per profile table")
    args = parser.parse_args(argv)
    ops = [op.strip() for op in args.ops.split(",") if op.strip()]

    from app.core.events import EventBus
    from app.scim.auth import Authenticator
    from app.scim.http import ScimApp
    from app.scim.service import ScimService
    from app.setup.tokens import TokenStore

    vault, folder, fresh = open_vault(args)
    try:
        if fresh:
            seed(vault, args.users)
        ids = user_ids(vault)
        names = sorted(ids)
        count = len(names)
        _, token = TokenStore(vault).create(f"profile-{uuid.uuid4().hex[:8]}")
        bus = EventBus()
        app = ScimApp(ScimService(vault, "https://127.0.0.1:8443/scim/v2", bus), Authenticator(TokenStore(vault)), bus)
        driver = AsgiDriver(app, token)
        rng = random.Random(7)
        index_of = {name: int(name[5:11]) for name in names}
        RESULTS.mkdir(parents=True, exist_ok=True)
        print(f"{count:,} users in the vault; {args.requests} requests per operation\n")

        def q(expression: str) -> str:
            return "/scim/v2/Users?" + urllib.parse.urlencode({"filter": expression}, quote_via=urllib.parse.quote)

        next_new = [10_000_000]

        def make(op: str) -> tuple[str, str, bytes | None, int]:
            name = rng.choice(names)
            if op == "get":
                return "GET", f"/scim/v2/Users/{ids[name]}", None, 200
            if op == "username":
                return "GET", q(f'userName eq "{name}"'), None, 200
            if op == "email":
                return "GET", q(f'emails[type eq "work"].value eq "{work_email(index_of[name])}"'), None, 200
            if op == "create":
                next_new[0] += 1
                return "POST", "/scim/v2/Users", dumps(new_user(next_new[0], "prof")), 201
            if op == "patch":
                body = {"schemas": [PATCH_SCHEMA], "Operations": [patch_op(index_of[name], rng.randrange(2))]}
                return "PATCH", f"/scim/v2/Users/{ids[name]}", dumps(body), 200
            raise ValueError(op)

        for op in ops:
            if op == "walk":
                requests = [("GET", "/scim/v2/Users?cursor=&count=1000", None, 200)]
            elif op == "delete":  # delete the users the create phase added (or fresh ones)
                created = [i for i in range(10_000_001, next_new[0] + 1)]
                if not created:
                    for _ in range(args.requests):
                        driver.request(*make("create")[:3])
                    created = list(range(10_000_001, next_new[0] + 1))
                lookup = {}
                for i in created:
                    status, body = driver.request("GET", q(f'userName eq "{user_name(i, "prof")}"'))
                    lookup[i] = json.loads(body)["Resources"][0]["id"]
                requests = [("DELETE", f"/scim/v2/Users/{lookup[i]}", None, 204) for i in created[: args.requests]]
            else:
                requests = [make(op) for _ in range(2 * args.requests)]
            half = len(requests) // 2 if op not in ("walk", "delete") else 0
            # first half: plain timing; second half (or all, for walk/delete): under the profiler
            if half:
                started = time.perf_counter()
                for method, target, body, expect in requests[:half]:
                    status, content = driver.request(method, target, body)
                    assert status == expect, (op, status, content[:200])
                per_request_ms = (time.perf_counter() - started) * 1000 / half
            profiler = ThreadsProfiler()
            started = time.perf_counter()
            if op == "walk":  # follow nextCursor through the whole vault
                target, pages = requests[0][1], 0
                profiler.enable()
                while target and pages < count // 1000 + 5:
                    status, content = driver.request("GET", target)
                    pages += 1
                    cursor = json.loads(content).get("nextCursor")
                    target = f"/scim/v2/Users?count=1000&cursor={cursor}" if cursor else ""
                profiler.disable()
                walked = time.perf_counter() - started
                per_request_ms = walked * 1000 / pages
                label = f"walk: {pages} pages of 1000 in {walked:.2f} s (under cProfile), {per_request_ms:.1f} ms/page"
            else:
                profiler.enable()
                for method, target, body, expect in requests[half:]:
                    status, content = driver.request(method, target, body)
                    assert status == expect, (op, status, content[:200])
                profiler.disable()
                if not half:
                    per_request_ms = (time.perf_counter() - started) * 1000 / len(requests)
                label = (
                    f"{op}: {per_request_ms:.2f} ms/request server-side ({1000 / per_request_ms:,.0f}/s on one core)"
                )
            path = RESULTS / f"profile-{op}.pstats"
            profiler.dump_stats(path)
            stats_source = profiler.stats_source(path)
            print("=" * 100)
            print(label)
            for sort in ("tottime", "cumulative"):
                buffer = io.StringIO()
                stats = pstats.Stats(stats_source, stream=buffer).strip_dirs().sort_stats(sort)
                stats.print_stats(args.top)
                text = buffer.getvalue()
                body = text[text.find("   ncalls") :]
                print(f"-- by {sort} --")
                print(body.rstrip())
            print(f"(saved {path})\n")
    finally:
        vault.close()
        if fresh:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
