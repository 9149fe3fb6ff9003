#!/usr/bin/env python3
"""What one membership change costs on a large group: the PATCH an IdP sends when one person joins or leaves.

Entra ID, Okta and OneLogin keep group membership current with one PATCH per change
(``{"op":"add","path":"members","value":[{"value":id}]}`` and ``members[value eq "id"]`` removals), so at 100,000
identities a PATCH of an "All staff" group is the commonest write there is. This script seeds a group of N members
in a real SQLCipher vault, then times, in process (no HTTP: the server's own work), adding and removing one member,
the Entra remove form with a value list, and a displayName rename, with and without ``excludedAttributes=members``
(how a client asks for the answer without the member list). Medians of ``--repeats`` calls.

    .venv/bin/python benchmarks/bench_group_patch.py --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.directory import repository as repo  # noqa: E402
from app.scim.service import ScimService  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from tests.policy_support import hold_everything  # noqa: E402

BASE = "https://bench.invalid/scim/v2"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def seed_users(vault: Vault, count: int) -> list[str]:
    """``count`` users in one transaction (seeding is not what is measured)."""
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with vault.write_transaction() as conn:
        for number, resource_id in enumerate(ids):
            document = {"schemas": [USER], "userName": f"member{number:06d}@example.test", "active": True}
            repo.insert_resource(conn, "User", resource_id, document, now)
    return ids


def body(*operations: dict[str, object]) -> dict[str, object]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def median_ms(call: Callable[[int], object], repeats: int) -> float:
    times = []
    for number in range(repeats):
        started = time.perf_counter()
        call(number)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(size: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="custos-bench-group-") as folder:
        vault = Vault.create(Path(folder), "bench-passphrase-only", "bench-passphrase-only")
        hold_everything(vault)
        ids = seed_users(vault, size + repeats)
        members, spare = ids[:size], ids[size:]
        service = ScimService(vault, BASE)
        started = time.perf_counter()
        group = {"schemas": [GROUP], "displayName": "All staff", "members": [{"value": i} for i in members]}
        group_id = service.create("Group", group).body["id"]
        figures = {"create the group": (time.perf_counter() - started) * 1000}

        def add(number: int) -> object:
            operation = {"op": "add", "path": "members", "value": [{"value": spare[number]}]}
            return service.patch("Group", group_id, body(operation))

        def remove(number: int) -> object:
            operation = {"op": "remove", "path": f'members[value eq "{spare[number]}"]'}
            return service.patch("Group", group_id, body(operation))

        def remove_entra(number: int) -> object:
            operation = {"op": "remove", "path": "members", "value": [{"value": members[number]}]}
            return service.patch("Group", group_id, body(operation))

        def rename(number: int) -> object:
            operation = {"op": "replace", "path": "displayName", "value": f"Staff {number}"}
            return service.patch("Group", group_id, body(operation))

        figures["add one member"] = median_ms(add, repeats)
        figures["remove it (members[value eq])"] = median_ms(remove, repeats)
        figures["remove one (Entra value list)"] = median_ms(remove_entra, repeats)
        figures["rename the group"] = median_ms(rename, repeats)
        if hasattr(service, "patch") and "projection" in service.patch.__code__.co_varnames:  # not before 2026-12
            from app.directory.projection import Projection

            quiet = Projection(exclude=("members",))

            def add_quietly(number: int) -> object:
                operation = {"op": "add", "path": "members", "value": [{"value": spare[number]}]}
                return service.patch("Group", group_id, body(operation), projection=quiet)

            figures["add one, excludedAttributes=members"] = median_ms(add_quietly, repeats)
        service.close()
        vault.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    results = {size: measure(size, args.repeats) for size in args.sizes}
    phases = list(next(iter(results.values())))
    print(f"{'ms (median)':34}" + "".join(f"{size:>12,}" for size in args.sizes))
    for phase in phases:
        print(f"{phase:34}" + "".join(f"{results[size][phase]:12.1f}" for size in args.sizes))


if __name__ == "__main__":
    main()
