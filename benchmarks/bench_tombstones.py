"""Tombstone benchmark: what the erased-person check costs a SCIM create (app/erasure/tombstones.py).

Per run, on a fresh SQLCipher vault with the shipped policy: N creates through ScimService with no tombstone,
then T tombstones written (as T erased subjects would leave them), then N more creates, and N creates that are
refused (an erased person sent again). Prints the median create latency of each phase and the ratio. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.core.events import EventBus  # noqa: E402
from app.directory.errors import ScimError  # noqa: E402
from app.erasure import tombstones  # noqa: E402
from app.policy.in_force import PolicyInForce  # noqa: E402
from app.scim.service import ScimService  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _create(service: ScimService, name: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(ScimError):  # the third phase is refused on purpose
        service.create("User", {"schemas": [USER], "userName": name, "externalId": f"ext-{name}"})
    return time.perf_counter() - started


def run(creates: int, stones: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        vault = create_vault(Path(folder), PASSPHRASE, PASSPHRASE)
        service = ScimService(vault, "https://bench.test/scim/v2", EventBus(), PolicyInForce(vault))
        try:
            before = [_create(service, f"a{n}@example.test") for n in range(creates)]
            with vault.write_transaction() as conn:
                now = datetime.now(UTC)
                for n in range(stones):
                    document = {"userName": f"gone{n}@example.test", "externalId": f"ext-gone{n}@example.test"}
                    tombstones.record(conn, "er-bench", n, document, now)
            after = [_create(service, f"b{n}@example.test") for n in range(creates)]
            refused = [_create(service, f"gone{n}@example.test") for n in range(creates)]
        finally:
            service.close()
            vault.close()
    return statistics.median(before), statistics.median(after), statistics.median(refused)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--tombstones", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = [run(args.creates, args.tombstones) for _ in range(args.repeats)]
    before, after, refused = (statistics.median(values) for values in zip(*runs, strict=True))
    print(f"create, no tombstone:           {before * 1000:.2f} ms (median of {args.creates} x {args.repeats})")
    print(f"create, {args.tombstones:,} tombstones:   {after * 1000:.2f} ms ({after / before:.2f}x)")
    print(f"refused (erased person again):  {refused * 1000:.2f} ms (rollback + trail entry)")


if __name__ == "__main__":
    main()
