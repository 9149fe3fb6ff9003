#!/usr/bin/env python3
"""How long finding the users whose manager is a given user takes, as the mirror grows (a script, not a test).

Every DELETE and every erasure asks it (app/erasure/references.py), inside the one writer's transaction, so its cost
is paid by every write queued behind it. Seeds a fresh vault with users who each have a manager (``value`` and
``$ref``, as scim2-models stores them), then times ``referrers`` for 200 of them and prints the median.

    python benchmarks/bench_referrers.py --sizes 2000,10000
    python benchmarks/bench_referrers.py --root /path/to/older/checkout      # the same on another tree
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(size: int) -> float:
    from bench_server import DEFAULT_PASSPHRASE, new_user
    from scim2_models import Context

    from app.audit.vault_lifecycle import create_vault
    from app.directory import repository as repo
    from app.directory.schema import ENTERPRISE_SCHEMA
    from app.directory.validation import stored_document, validate_resource
    from app.erasure.references import referrers
    from app.scim.tolerance import normalise_resource

    vault = create_vault(Path(tempfile.mkdtemp(prefix="custos-referrers-")), DEFAULT_PASSPHRASE)
    ids = [str(uuid.uuid4()) for _ in range(size)]
    now = datetime.now(UTC)
    for start in range(0, size, 1000):
        with vault.write_transaction() as conn:
            for i in range(start, min(size, start + 1000)):
                body = new_user(i)
                body[ENTERPRISE_SCHEMA] = {"manager": {"value": ids[i - 1], "$ref": f"../Users/{ids[i - 1]}"}}
                model = validate_resource("User", normalise_resource("User", body), Context.RESOURCE_CREATION_REQUEST)
                repo.insert_resource(conn, "User", ids[i], stored_document("User", model), now)
    timings = []
    with vault.read_connection() as conn:
        for resource_id in ids[100:300]:
            started = time.perf_counter()
            found = referrers(conn, resource_id)
            timings.append(time.perf_counter() - started)
            assert len(found) == 1, "each user manages exactly the next one"
    vault.close()
    return statistics.median(timings) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="users in the vault, comma-separated")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the Custos source tree to measure")
    args = parser.parse_args()
    sys.path[:0] = [str(args.root), str(HERE)]
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = {size: measure(size) for size in sizes}
    for size, median in figures.items():
        print(f"{size:>8,} users: referrers median {median:.3f} ms")
    if len(sizes) > 1:
        print(f"cost ratio {sizes[-1]:,} / {sizes[0]:,} users: {figures[sizes[-1]] / figures[sizes[0]]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
