"""Audit timeline benchmark (offscreen Qt): open the Audit trail page on a trail of N entries (default
1,000,000) and time until the first page of entries is shown, and until the activity chart is drawn.

The trail is generated with append_many in batches (a realistic mix of kinds, one subject in ten). Prints
medians over --repeats; the goal is the first page in under 2 s. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audit.trail import Event, append_many  # noqa: E402
from app.audit.vault_lifecycle import create_vault  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from app.ui.audit.view import AuditPage  # noqa: E402
from app.ui.run import application  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"
KINDS = ("scim.request", "scim.request", "scim.request", "scim.resource.patched", "scim.auth.failed")


def generate(vault: Vault, entries: int) -> None:
    start = datetime.now(UTC)  # after the vault's first entry: a trail is appended in time order
    step = timedelta(milliseconds=1)
    for offset in range(0, entries, 10_000):
        events = [
            Event(
                KINDS[n % len(KINDS)], "token:okta", details={"status": 200, "source": "127.0.0.1"}, at=start + step * n
            )
            for n in range(offset, min(entries, offset + 10_000))
        ]
        with vault.write_transaction() as conn:
            append_many(conn, events, checkpoint=False)


def open_page(app: object, vault: Vault) -> tuple[float, float]:
    started = time.perf_counter()
    page = AuditPage(vault)
    page.show()
    page.refresh()
    first = chart = None
    while first is None or chart is None:
        app.processEvents()  # type: ignore[attr-defined]
        if first is None and page.model.rowCount() > 0:
            first = time.perf_counter() - started
        if chart is None and page.chart.data is not None and page.chart.data.total() > 0:
            chart = time.perf_counter() - started
        if time.perf_counter() - started > 120:
            raise TimeoutError("the page did not load")
        time.sleep(0.001)
    page.deleteLater()
    return first, chart


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    app = application(["custos-bench"])
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-timeline-"))
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    started = time.perf_counter()
    generate(vault, args.entries)
    print(f"generated {args.entries:,} entries in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    runs = [open_page(app, vault) for _ in range(args.repeats)]
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone()
    vault.close()
    first = [r[0] for r in runs]
    chart = [r[1] for r in runs]
    print(f"{'metric':<28}{'median':>10}   runs")
    print(f"{'first page shown (s)':<28}{statistics.median(first):>10.3f}   {', '.join(f'{v:.3f}' for v in first)}")
    print(f"{'chart drawn (s)':<28}{statistics.median(chart):>10.3f}   {', '.join(f'{v:.3f}' for v in chart)}")
    print(f"first page / goal (2 s): {statistics.median(first) / 2:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
