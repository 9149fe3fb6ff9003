"""The Audit page's exports on a large trail: the timeline as CSV and XLSX, and a range bundle with its anchor.

On a fresh SQLCipher vault with --entries entries (a checkpoint every 1,000, as in use; generated as
benchmarks/bench_audit.py does), prints medians over --repeats runs:
- export_timeline of the whole trail as CSV, and of --xlsx-entries entries as XLSX (seconds, file size);
- a bundle of --bundle-entries entries from the middle of the trail, by sequence number: export and verify
  (seconds), the bundle's size and anchor.json's size (the bridge from the checkpoint before the range).

Not a test: nothing asserts timings. Usage: .venv/bin/python benchmarks/bench_audit_exports.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audit.bundle import export_bundle, verify_bundle  # noqa: E402
from app.audit.query import EventFilter  # noqa: E402
from app.exports.audit_timeline import export_timeline  # noqa: E402
from benchmarks.bench_audit import generate, new_vault  # noqa: E402


def median(repeats: int, run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(repeats))


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--xlsx-entries", type=int, default=10_000)
    parser.add_argument("--bundle-entries", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-exports-"))
    vault = new_vault()
    try:
        print(f"generating {args.entries:,} entries…", file=sys.stderr)
        generate(vault, args.entries)
        csv_path, xlsx_path = folder / "timeline.csv", folder / "timeline.xlsx"
        csv_seconds = median(args.repeats, lambda: timed(lambda: export_timeline(vault, "csv", csv_path, "bench",
                                                                                 where=EventFilter())))  # fmt: skip
        seqs = range(1, args.xlsx_entries + 1)
        xlsx_seconds = median(args.repeats, lambda: timed(lambda: export_timeline(vault, "xlsx", xlsx_path, "bench",
                                                                                  seqs=seqs)))  # fmt: skip
        first = args.entries // 2 + 500  # half-way between two checkpoints: the longest bridge in use
        span = (first, first + args.bundle_entries - 1)
        bundle = folder / "range.zip"

        def export() -> float:
            with vault.write_transaction() as conn:
                return timed(lambda: export_bundle(conn, None, None, bundle, seqs=span))

        export_seconds = median(args.repeats, export)
        verify_seconds = median(args.repeats, lambda: timed(lambda: verify_bundle(bundle)))
        assert verify_bundle(bundle).ok
        with zipfile.ZipFile(bundle) as archive:
            anchor_bytes = archive.getinfo("anchor.json").file_size
    finally:
        vault.close()
    print(f"Trail of {args.entries:,} entries, medians of {args.repeats}:")
    print(f"  timeline CSV, every entry:        {csv_seconds:.2f} s, {csv_path.stat().st_size / 1e6:.1f} MB")
    print(f"  timeline XLSX, {args.xlsx_entries:,} entries:     {xlsx_seconds:.2f} s, "
          f"{xlsx_path.stat().st_size / 1e6:.1f} MB")  # fmt: skip
    print(f"  bundle of entries {span[0]:,}–{span[1]:,}: export {export_seconds:.2f} s, verify "
          f"{verify_seconds:.2f} s, {bundle.stat().st_size / 1e6:.2f} MB (anchor.json {anchor_bytes / 1e3:.0f} KB "
          "uncompressed)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
