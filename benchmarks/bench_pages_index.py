#!/usr/bin/env python3
"""In-process figures for issue 16 steps 1-2 (a script, not a test): at N users (default 10,000) in a fresh
SQLCipher vault, the vault's size against its JSON documents, a walk by pages of 100 (search() + JSON encoding),
PATCH `replace title`, PATCH `replace active` and DELETE through ScimService (each a durable commit with its
audit entry). Medians of 3; run it from a checkout of each version to compare (the figures in decision 0029).

    python benchmarks/bench_pages_index.py [N]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_server import new_user  # noqa: E402

from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.directory import repository as repo  # noqa: E402
from app.directory.query import QueryParams, search  # noqa: E402
from app.scim.service import ScimService  # noqa: E402
from tests.policy_support import hold_everything  # noqa: E402

BASE = "https://bench.invalid/scim/v2"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BATCH = 300


def median_ms(action: Callable[[str], None], ids: list[str]) -> float:
    """Median over 3 batches of the time per call, in ms."""
    runs = []
    for batch in range(3):
        chunk = ids[batch * BATCH : (batch + 1) * BATCH]
        started = time.perf_counter()
        for resource_id in chunk:
            action(resource_id)
        runs.append((time.perf_counter() - started) * 1000 / len(chunk))
    return statistics.median(runs)


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory(prefix="custos-bench-index-") as folder:
        vault = create_vault(Path(folder), "bench-passphrase-only", "bench-passphrase-only")
        hold_everything(vault)
        now, ids = datetime.now(UTC), [str(uuid.uuid4()) for _ in range(users)]
        with vault.write_transaction() as conn:
            for i, resource_id in enumerate(ids):
                repo.insert_resource(conn, "User", resource_id, new_user(i), now)
        vault.optimize()
        with vault.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        documents = sum(len(json.dumps(new_user(i), separators=(",", ":"))) for i in range(users))
        size = (Path(folder) / "custos.vault").stat().st_size
        print(f"vault {size / 1e6:.2f} MB, JSON documents {documents / 1e6:.2f} MB: {size / documents:.1f}x")

        def walk() -> float:
            started = time.perf_counter()
            for start in range(1, users + 1, 100):
                body = search(vault, None, BASE, ("User",), QueryParams(start_index=start, count=100))
                json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            return time.perf_counter() - started

        seconds = statistics.median(walk() for _ in range(3))
        print(f"walk by pages of 100: {seconds:.3f} s ({seconds * 1000 / (users / 100):.2f} ms per page)")
        service = ScimService(vault, BASE)
        for label, operation in (
            ("PATCH replace title", {"op": "replace", "path": "title", "value": "Principal"}),
            ("PATCH replace active", {"op": "replace", "path": "active", "value": False}),
        ):
            body = {"schemas": [PATCH], "Operations": [operation]}
            cost = median_ms(lambda rid, body=body: service.patch("User", rid, body), ids)  # type: ignore[misc]
            print(f"{label}: {cost:.2f} ms each (median of 3 x {BATCH})")
        cost = median_ms(lambda rid: service.delete("User", rid), list(reversed(ids)))
        print(f"DELETE: {cost:.2f} ms each (median of 3 x {BATCH})")
        vault.close()


if __name__ == "__main__":
    main()
