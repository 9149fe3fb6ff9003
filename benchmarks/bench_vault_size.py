#!/usr/bin/env python3
"""The vault's size against its users' JSON documents, where the bytes go, and the write CPU — before → after.

Issue 16 step 2's target: the vault at 10,000 full users ≤ 3× the size of its JSON documents. For each checkout
given (``--checkout label=path``, repeatable; e.g. ``git archive <base> | tar -x -C /tmp/before``), a child
process importing that checkout's ``app`` builds a fresh SQLCipher vault and reports:

* **as a user has it** (``service``): N users created one by one through ``ScimService.create`` — each its own
  durable commit with its audit entry, as an IdP's POSTs are —, no VACUUM, then the vault closed (closing runs
  ``PRAGMA optimize`` and a WAL checkpoint). The size is the file's; the WAL left (normally 0) is printed beside
  it and *not* counted; free pages (the freelist) are counted, as they are in the file. The JSON is the users'
  documents as the client sent them, compact (``json.dumps`` with no spaces).
* **one transaction** (``bulk``): the same users inserted by the repository in one transaction, ``optimize`` and a
  checkpoint — the method of the figures in decisions 0029–0030 (10.6× → 6.8× → 4.5×), kept for continuity.
* **where the bytes go**: the ``service`` vault's pages decrypted one by one with its key (AES-256-CBC, the IV in
  each page's reserved bytes: the same page layout, nothing repacked) into a scratch file that the standard
  library's SQLite reads with its ``dbstat`` table: bytes per table and per index (whole pages, what the file
  holds), per user, and the share of each page that is free. The reserved bytes (IV + HMAC-SHA512, 80 of every
  4,096) are counted in each object's pages, and shown on their own line as well.
* **write CPU** (``time.process_time`` of the child, per request, medians of 3 batches): a create (during the build
  above), PATCH ``replace title``, DELETE — through ``ScimService``, each a durable commit with its audit entry.

Rounds alternate the checkouts; the table shows each figure's median over the rounds.

    python benchmarks/bench_vault_size.py --checkout before=/tmp/before --checkout after=. --rounds 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r'''
import json, sqlite3, statistics, sys, tempfile, time, uuid
from datetime import UTC, datetime
from pathlib import Path
root, users = Path(sys.argv[1]), int(sys.argv[2])
sys.path[:0] = [str(root), str(root / "benchmarks")]
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from bench_server import new_user
from app.directory import repository as repo
from app.scim.service import ScimService
from app.store.vault import Vault
from tests.policy_support import hold_everything
BASE = "https://bench.invalid/scim/v2"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
PAGE, RESERVED = 4096, 80

def per_call_ms(action, items):
    runs = []
    for batch in range(3):
        chunk = items[batch::3]
        started = time.process_time()
        for item in chunk:
            action(item)
        runs.append((time.process_time() - started) * 1000 / len(chunk))
    return statistics.median(runs)

def decrypted(path, key, target):
    """The file's pages decrypted in place (same page numbers), as a plain SQLite file dbstat can read."""
    data = path.read_bytes()
    out = bytearray()
    for number in range(len(data) // PAGE):
        page = data[number * PAGE:(number + 1) * PAGE]
        start = 16 if number == 0 else 0  # page 1 starts with the salt where SQLite has its header
        iv = page[PAGE - RESERVED:PAGE - RESERVED + 16]
        clear = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = clear.update(page[start:PAGE - RESERVED]) + clear.finalize()
        out += (b"SQLite format 3\x00" if number == 0 else b"") + plain + bytes(RESERVED)
    target.write_bytes(out)

def breakdown(plain):
    con = sqlite3.connect(plain)
    rows = con.execute(
        "SELECT name, count(*), sum(payload), sum(unused) FROM dbstat GROUP BY name ORDER BY count(*) DESC"
    ).fetchall()
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    total = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    return {"objects": rows, "freelist_pages": free, "page_count": total}

out = {}
documents = sum(len(json.dumps(new_user(i), separators=(",", ":"))) for i in range(users))
out["json_bytes"] = documents
with tempfile.TemporaryDirectory(prefix="custos-bench-size-") as folder:
    folder = Path(folder)
    (folder / "service").mkdir()
    (folder / "bulk").mkdir()
    vault = Vault.create(folder / "service", "bench-passphrase-only", "bench-passphrase-only")
    key = bytes(vault._key())
    hold_everything(vault)
    service = ScimService(vault, BASE)
    ids = []
    def create(i):
        ids.append(service.create("User", new_user(i)).body["id"])
    runs = []
    for batch in range(3):  # three thirds of the build, each timed: the median is the create's CPU
        chunk = range(batch * users // 3, (batch + 1) * users // 3)
        started = time.process_time()
        for i in chunk:
            create(i)
        runs.append((time.process_time() - started) * 1000 / len(chunk))
    out["create_ms"] = statistics.median(runs)
    service.close()
    vault.close()
    path = folder / "service" / "custos.vault"
    wal = path.with_name(path.name + "-wal")
    out["service_bytes"] = path.stat().st_size
    out["service_wal_bytes"] = wal.stat().st_size if wal.exists() else 0
    out["service_ratio"] = out["service_bytes"] / documents
    decrypted(path, key, folder / "plain.db")
    out.update(breakdown(folder / "plain.db"))
    vault = Vault.unlock(folder / "service", "bench-passphrase-only")
    service = ScimService(vault, BASE)
    sample = ids[:: max(1, len(ids) // 900)][:900]
    body = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Principal"}]}
    out["patch_ms"] = per_call_ms(lambda rid: service.patch("User", rid, body), sample)
    out["delete_ms"] = per_call_ms(lambda rid: service.delete("User", rid), sample)
    service.close()
    vault.close()

    vault = Vault.create(folder / "bulk", "bench-passphrase-only", "bench-passphrase-only")
    hold_everything(vault)
    now = datetime.now(UTC)
    with vault.write_transaction() as conn:
        for i in range(users):
            repo.insert_resource(conn, "User", str(uuid.uuid4()), new_user(i), now)
    vault.optimize()
    with vault.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    out["bulk_ratio"] = (folder / "bulk" / "custos.vault").stat().st_size / documents
    vault.close()
print(json.dumps(out))
'''

FIGURES = (
    ("service_ratio", "vault / JSON, created one by one (x)"),
    ("bulk_ratio", "vault / JSON, one transaction (x)"),
    ("create_ms", "create, CPU per request (ms)"),
    ("patch_ms", "PATCH replace title, CPU per request (ms)"),
    ("delete_ms", "DELETE, CPU per request (ms)"),
)


def run(checkout: Path, users: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkout), str(users)], cwd=checkout, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{checkout}: {done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_breakdown(label: str, figures: dict[str, object], users: int) -> None:
    objects = figures["objects"]
    assert isinstance(objects, list)
    size = int(str(figures["service_bytes"]))
    print(f"\n{label}: {size:,} bytes ({figures['page_count']} pages, {figures['freelist_pages']} free), "
          f"WAL left {figures['service_wal_bytes']} bytes, JSON {figures['json_bytes']:,} bytes")
    print(f"  {'object':<36}{'pages':>8}{'bytes/user':>12}{'share':>8}{'unused':>8}")
    small = [row for row in objects if row[1] <= 2]  # an empty table or index: its root page
    for name, pages, _payload, unused in objects:
        if pages <= 2:
            continue
        print(f"  {name:<36}{pages:>8}{pages * 4096 / users:>12.1f}{pages * 4096 / size:>8.1%}"
              f"{unused / (pages * 4096):>8.1%}")
    pages = sum(row[1] for row in small)
    share = pages * 4096 / size
    print(f"  {f'{len(small)} objects of 1-2 pages':<36}{pages:>8}{pages * 4096 / users:>12.1f}{share:>8.1%}")
    free = int(str(figures["freelist_pages"]))
    print(f"  {'free pages (freelist)':<36}{free:>8}{free * 4096 / users:>12.1f}{free * 4096 / size:>8.1%}")
    reserved = int(str(figures["page_count"])) * 80
    print(f"  {'(of which reserved: IV + HMAC)':<36}{'':>8}{reserved / users:>12.1f}{reserved / size:>8.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", action="append", required=True, metavar="LABEL=PATH")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    checkouts = [(label, Path(path).resolve()) for label, _, path in (item.partition("=") for item in args.checkout)]
    figures: dict[str, list[dict[str, object]]] = {label: [] for label, _path in checkouts}
    for round_number in range(args.rounds):
        for label, checkout in checkouts:
            figures[label].append(run(checkout, args.users))
            shown = {key: figures[label][-1][key] for key, _ in FIGURES}
            print(f"round {round_number + 1} {label}: {shown}", file=sys.stderr, flush=True)
    labels = [label for label, _path in checkouts]
    print(f"vault size and write CPU at {args.users:,} users, medians of {args.rounds} round(s)")
    print(f"{'figure':<44}" + "".join(f"{label:>12}" for label in labels))
    for key, text in FIGURES:
        values = [statistics.median(float(str(run[key])) for run in figures[name]) for name in labels]
        print(f"{text:<44}" + "".join(f"{value:>12.3f}" for value in values))
    for label in labels:
        print_breakdown(label, figures[label][-1], args.users)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
