"""Audit trail benchmark: appending, verifying a million entries, checkpoints, evidence bundles.

On fresh SQLCipher vaults (durable commits), prints medians over --repeats runs:
- append throughput in events/s, batches of --batch events in one transaction: append() without a subject,
  append() with a subject (keyed pseudonym lookup), append() with a sealed private detail, append_many();
  and the ratio to the previous append() (SQLAlchemy statements, hash chain only: no pseudonyms, checkpoints);
- verify_trail over --entries entries (1,000,000 by default) with a checkpoint every 1,000 entries, as the
  trail has in use; the entries are generated directly in batches (valid hashes, varied content);
- checkpoint_now after 1,000 new entries, on the small trail and on the big one;
- export_bundle / verify_bundle for a range of --bundle-entries entries, on a trail of that size and on the
  big trail (export builds the tree over every leaf).

Not a test: nothing asserts timings. Usage: .venv/bin/python benchmarks/bench_audit.py [--entries 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, insert, select  # noqa: E402

from app.audit.bundle import export_bundle, verify_bundle  # noqa: E402
from app.audit.checkpoints import checkpoint_now  # noqa: E402
from app.audit.tables import AuditEvent  # noqa: E402
from app.audit.trail import GENESIS, Event, append, append_many, canonical, content_bytes, iso_utc  # noqa: E402
from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.audit.verify import verify_trail  # noqa: E402
from app.store.vault import Vault  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"
_A = AuditEvent.__table__
KINDS = ("scim.request", "scim.request", "scim.request", "scim.resource.updated", "provision.updated")


def new_vault() -> Vault:
    return create_vault(Path(tempfile.mkdtemp(prefix="custos-bench-audit-")), PASSPHRASE, PASSPHRASE)


def median_of(repeats: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeats))


def request_event(i: int, subject: str | None, private: bool = False) -> Event:
    details = {"method": "GET", "endpoint": "Users", "status": 200, "duration_ms": 1.25, "source": "10.0.0.7"}
    return Event(
        "scim.request", "token:okta-prod", subject=subject, details=details, private={"n": i} if private else None
    )


# -- append ------------------------------------------------------------------------------------------------
def bare_append(conn: Connection, event: Event) -> None:
    """append() as it was before pseudonyms and checkpoints: tail read, canonical JSON, leaf and chain, insert."""
    tail = conn.execute(select(_A.c.seq, _A.c.chain_hash).order_by(_A.c.seq.desc()).limit(1)).first()
    seq, previous = (tail.seq + 1, tail.chain_hash) if tail else (1, GENESIS)
    at = iso_utc(datetime.now(UTC))
    content = {"seq": seq, "at": at, "kind": event.kind, "actor": event.actor, "outcome": event.outcome}
    content |= {"subject": event.subject, "details": event.details}
    leaf = hashlib.sha256(b"\x00" + canonical(content)).hexdigest()
    chained = hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(leaf)).hexdigest()
    row = {**content, "details": canonical(event.details).decode(), "leaf_hash": leaf, "chain_hash": chained}
    conn.execute(insert(_A), row)


def append_rates(repeats: int, batch: int, rounds: int) -> dict[str, float]:
    vault = new_vault()
    subjects = [f"2819c223-7f76-453a-919d-{n:012d}" for n in range(500)]
    cases: dict[str, Callable[[Connection, int], None]] = {
        "previous append (chain only)": lambda c, i: bare_append(c, request_event(i, None)),
        "append(), no subject": lambda c, i: append(c, request_event(i, None)),
        "append(), subject": lambda c, i: append(c, request_event(i, subjects[i % 500])),
        "append(), subject + sealed detail": lambda c, i: append(c, request_event(i, subjects[i % 500], True)),
    }
    rates: dict[str, float] = {}
    try:
        for name, work in cases.items():

            def measure(work: Callable[[Connection, int], None] = work) -> float:
                started = time.perf_counter()
                for r in range(rounds):
                    with vault.write_transaction() as conn:
                        for i in range(batch):
                            work(conn, r * batch + i)
                return rounds * batch / (time.perf_counter() - started)

            rates[name] = median_of(repeats, measure)

        def measure_many() -> float:
            started = time.perf_counter()
            for r in range(rounds):
                with vault.write_transaction() as conn:
                    append_many(conn, [request_event(r * batch + i, subjects[i % 500]) for i in range(batch)])
            return rounds * batch / (time.perf_counter() - started)

        rates["append_many(), subject"] = median_of(repeats, measure_many)
        with vault.read_connection() as conn:
            assert verify_trail(conn).ok
    finally:
        vault.close()
    return rates


# -- a big trail, generated fast ---------------------------------------------------------------------------
def generate(vault: Vault, entries: int, checkpoint_every: int = 1000, sign: bool = True) -> float:
    """Grow the trail to ``entries`` valid entries in batches of ``checkpoint_every``, signing after each."""
    rng = random.Random(1)
    pseudonyms = [rng.randbytes(32).hex() for _ in range(5000)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    if sign:
        with vault.write_transaction() as conn:
            checkpoint_now(conn)  # announces the signing key before the generated entries
    with vault.read_connection() as conn:
        seq, chain = conn.execute(select(_A.c.seq, _A.c.chain_hash).order_by(_A.c.seq.desc()).limit(1)).one()
    while seq < entries:
        rows = []
        for _ in range(min(checkpoint_every, entries - seq)):
            seq += 1
            kind = KINDS[seq % 5]
            at = iso_utc(start + timedelta(milliseconds=37 * seq))
            subject = pseudonyms[seq % 5000] if seq % 3 else None
            details = canonical({"method": "GET", "endpoint": "Users", "status": 200, "duration_ms": seq % 97 / 7})
            details_text = details.decode()
            leaf = hashlib.sha256(
                b"\x00" + content_bytes(seq, at, kind, "token:okta-prod", "success", subject, details_text)
            ).digest()
            chain_bytes = hashlib.sha256(bytes.fromhex(chain) + leaf).digest()
            chain = chain_bytes.hex()
            rows.append((seq, at, kind, "token:okta-prod", "success", subject, details_text, leaf.hex(), chain))
        with vault.write_transaction() as conn:
            conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
                "INSERT INTO audit_events (seq, at, kind, actor, outcome, subject, details, leaf_hash, chain_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if sign:
                checkpoint_now(conn)
    return time.perf_counter() - started


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def checkpoint_time(vault: Vault, repeats: int) -> float:
    def measure() -> float:
        generate(vault, size_of(vault) + 1000, sign=False)  # 1,000 new entries, not signed yet
        with vault.write_transaction() as conn:
            return timed(lambda: checkpoint_now(conn))

    return median_of(repeats, measure)


def size_of(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return int(conn.execute(select(_A.c.seq).order_by(_A.c.seq.desc()).limit(1)).scalar_one())


def bundle_times(vault: Vault, entries: int, repeats: int) -> tuple[float, float, int]:
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-bundle-"))
    with vault.read_connection() as conn:
        last = size_of(vault)
        first = max(1, last - entries + 1)
        moments = conn.execute(select(_A.c.at).where(_A.c.seq.in_([first, last])).order_by(_A.c.seq)).scalars().all()
    start = datetime.fromisoformat(moments[0].replace("Z", "+00:00"))
    end = datetime.fromisoformat(moments[-1].replace("Z", "+00:00")) + timedelta(microseconds=1)
    path = folder / "bundle.zip"

    def export() -> float:
        with vault.write_transaction() as conn:
            return timed(lambda: export_bundle(conn, start, end, path))

    export_seconds = median_of(repeats, export)
    verify_seconds = median_of(repeats, lambda: timed(lambda: verify_bundle(path)))
    report = verify_bundle(path)
    assert report.ok, report.breaches
    return export_seconds, verify_seconds, path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--bundle-entries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="events per transaction when appending")
    parser.add_argument("--rounds", type=int, default=5, help="transactions per append measurement")
    args = parser.parse_args()
    results: dict[str, object] = {}

    print("appending…", file=sys.stderr)
    rates = append_rates(args.repeats, args.batch, args.rounds)
    results["append_events_per_second"] = rates
    print(f"\nAppend ({args.batch} events per transaction, median of {args.repeats}):")
    bare = rates["previous append (chain only)"]
    for name, rate in rates.items():
        print(f"  {name:<36} {rate:>9,.0f} events/s  {1e6 / rate:>7.1f} µs/event  {rate / bare:>5.2f}x previous append")

    print(f"bundle on a {args.bundle_entries:,}-entry trail…", file=sys.stderr)
    small = new_vault()
    try:
        generate(small, args.bundle_entries)
        small_checkpoint = checkpoint_time(small, args.repeats)
        small_export, small_verify, small_bytes = bundle_times(small, args.bundle_entries, args.repeats)
    finally:
        small.close()

    print(f"generating {args.entries:,} entries…", file=sys.stderr)
    big = new_vault()
    try:
        generation = generate(big, args.entries)
        count = size_of(big)
        print("verifying…", file=sys.stderr)
        verify_runs = []
        for _ in range(args.repeats):
            with big.read_connection() as conn:
                started = time.perf_counter()
                report = verify_trail(conn)
                verify_runs.append(time.perf_counter() - started)
            assert report.ok, report.breaches
        big_checkpoint = checkpoint_time(big, args.repeats)
        big_export, big_verify, big_bytes = bundle_times(big, args.bundle_entries, args.repeats)
        verify_seconds = statistics.median(verify_runs)
    finally:
        big.close()

    print(f"\nVerify (median of {args.repeats}):")
    print(f"  {count:,} entries, {report.checkpoints:,} checkpoints: {verify_seconds:.2f} s")
    print(f"  = {count / verify_seconds:,.0f} entries/s; goal 30 s; ratio to goal {verify_seconds / 30:.2f}")
    print(f"  (generating them: {generation:.1f} s including a checkpoint every 1,000)")
    print("\nCheckpoint after 1,000 new entries:")
    print(f"  trail of {args.bundle_entries:,}: {small_checkpoint * 1000:.1f} ms")
    print(f"  trail of {count:,}: {big_checkpoint * 1000:.1f} ms  (ratio {big_checkpoint / small_checkpoint:.2f})")
    print(f"\nBundle of {args.bundle_entries:,} entries:")
    print(
        f"  from a trail of {args.bundle_entries:,}: export {small_export:.2f} s, verify {small_verify:.2f} s, "
        f"{small_bytes / 1e6:.1f} MB"
    )
    print(
        f"  from a trail of {count:,}: export {big_export:.2f} s, verify {big_verify:.2f} s, {big_bytes / 1e6:.1f} MB"
    )
    results.update(
        verify_seconds=verify_seconds,
        verify_runs=verify_runs,
        entries=count,
        checkpoint_ms={"small": small_checkpoint * 1000, "big": big_checkpoint * 1000},
        bundle={"small": [small_export, small_verify, small_bytes], "big": [big_export, big_verify, big_bytes]},
    )
    print("\n" + json.dumps(results, indent=1, default=str), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
