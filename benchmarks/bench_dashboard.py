"""Dashboard benchmark: the Overview's dashboard read (tiles + requests per hour over 7 days + erasures per day,
app/dashboard/figures.py) and the Audit page's chart by type (app/audit/timeseries.py) on a trail holding a
week of SCIM requests (default 200,000 entries: ~20 requests a minute for 7 days).

The Overview reads the dashboard again when the trail grows, at most every 10 s: the read should stay well under
that. Prints medians over --repeats. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audit.query import EventFilter, histogram  # noqa: E402
from app.audit.timeseries import events_by_type  # noqa: E402
from app.audit.trail import Event, append_many  # noqa: E402
from app.dashboard.figures import read_dashboard  # noqa: E402
from app.policy.in_force import PolicyInForce  # noqa: E402
from app.store.vault import Vault  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"
WEEK = timedelta(days=7)


def generate(vault: Vault, entries: int) -> datetime:
    """``entries`` over the 7 days after now (a trail is appended in time order); returns the end of that week."""
    start = datetime.now(UTC) + timedelta(minutes=1)
    step = WEEK / entries
    for offset in range(0, entries, 10_000):
        events = []
        for n in range(offset, min(entries, offset + 10_000)):
            refused = n % 9 == 0
            kind = "scim.auth.failed" if n % 97 == 0 else "scim.request"
            details = {"count": 3} if kind == "scim.auth.failed" else {"status": 400 if refused else 200}
            events.append(Event(kind, "token:okta", "failure" if refused else "success", details=details,
                                at=start + step * n))  # fmt: skip
        with vault.write_transaction() as conn:
            append_many(conn, events)
    return start + WEEK


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        vault = Vault.create(Path(folder), PASSPHRASE)
        began = time.perf_counter()
        end = generate(vault, args.entries)
        print(f"generated {args.entries:,} entries in {time.perf_counter() - began:.1f} s")
        policy = PolicyInForce(vault).get().policy
        dashboard, chart, before = [], [], []
        for _ in range(args.repeats):
            began = time.perf_counter()
            board = read_dashboard(vault, policy, end)
            dashboard.append(time.perf_counter() - began)
            began = time.perf_counter()
            with vault.read_connection() as conn:
                events_by_type(conn, EventFilter(), end - WEEK, end, 48)
            chart.append(time.perf_counter() - began)
            began = time.perf_counter()
            with vault.read_connection() as conn:  # the Audit page's earlier chart: one series, grouped by second
                histogram(conn, EventFilter(), end - WEEK, end, 48)
            before.append(time.perf_counter() - began)
        served, refused = board.requests.total("served"), board.requests.total("refused")
        print(f"dashboard read: median {statistics.median(dashboard) * 1000:.0f} ms "
              f"({served:,} served, {refused:,} refused in the chart)")  # fmt: skip
        print(f"audit chart by type, 7 days in 48 slots: median {statistics.median(chart) * 1000:.0f} ms "
              f"(the earlier one-series histogram: {statistics.median(before) * 1000:.0f} ms)")  # fmt: skip
        vault.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
