"""Desktop benchmark (offscreen Qt): cold start on a 100,000-user vault, and event-loop stalls under load.

1. Cold start: a vault with N users (rows written straight to the mirror, like a full IdP sync). The key
   derivation (PBKDF2, 256,000 iterations: deliberately slow) is timed separately; then, from the derived key,
   unlock + migrations check + main window built and shown + first page of the Users table loaded.
2. Responsiveness: with the window up and the real HTTPS server running in the same process, 1,000 creates
   arrive from 8 client threads. A 5 ms QTimer records every gap between ticks: the longest gap is the longest
   the event loop was blocked (target: never more than 100 ms).

Prints medians over --repeats. Not a test.
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))

import httpx  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from ui_support import insert_rows, user_row  # noqa: E402

from app.audit.vault_lifecycle import create_vault, unlock_vault, unlock_vault_with_key  # noqa: E402
from app.core.events import EventBus  # noqa: E402
from app.scim.server import ScimServer  # noqa: E402
from app.setup.tls import ensure_self_signed  # noqa: E402
from app.setup.tokens import TokenStore  # noqa: E402
from app.store.vault import Vault  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.run import application  # noqa: E402
from tests.policy_support import hold_everything  # noqa: E402

PASSPHRASE = "benchmark passphrase 1"


def seed(folder: Path, users: int) -> None:
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    hold_everything(vault)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for offset in range(0, users, 5000):
        rows = [
            user_row(f"user{n:06d}@example.test", f"Person {n}", start + timedelta(seconds=n))
            for n in range(offset, min(users, offset + 5000))
        ]
        insert_rows(vault, rows)
    vault.close()


def wait_for(app: QApplication, condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        app.processEvents()
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.001)


def cold_start(app: QApplication, folder: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    key = Vault.derive_key(folder, PASSPHRASE)
    t1 = time.perf_counter()
    vault = unlock_vault_with_key(folder, key)
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(folder), bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    window.show()
    model = window.identities.users.model
    wait_for(app, lambda: model.rowCount() > 0)
    t2 = time.perf_counter()
    window.shutdown()
    window.deleteLater()
    app.processEvents()
    vault.close()
    return {"kdf_s": t1 - t0, "unlock_to_first_page_s": t2 - t1}


def responsiveness(app: QApplication, folder: Path, creates: int) -> dict[str, float]:
    vault = unlock_vault(folder, PASSPHRASE)
    _, token = TokenStore(vault).create(f"bench-{time.time_ns()}")
    bus, tokens = EventBus(), TokenStore(vault)
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, tls=tls, bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    window.show()
    server.start()
    settle = time.monotonic() + 1.0  # first paint and the first page load are the cold start's, not the burst's
    wait_for(app, lambda: time.monotonic() > settle)
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    done = threading.Event()

    def load() -> None:
        context = ssl.create_default_context(cafile=str(tls.cert_path))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, verify=context, headers=headers, timeout=60) as http:

            def create(n: int) -> int:
                body = {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": f"burst-{time.time_ns()}-{n}@example.test",
                }
                return http.post("/Users", json=body).status_code

            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(create, range(creates)))
        assert all(s == 201 for s in statuses), set(statuses)
        done.set()

    started = time.perf_counter()
    threading.Thread(target=load, daemon=True).start()
    wait_for(app, done.is_set, timeout=600)
    elapsed = time.perf_counter() - started
    timer.stop()
    window.shutdown()
    server.stop()
    window.deleteLater()
    app.processEvents()
    vault.close()
    ordered = sorted(gaps)
    return {
        "burst_creates_per_s": creates / elapsed,
        "loop_gap_max_ms": ordered[-1],
        "loop_gap_p99_ms": ordered[int(0.99 * (len(ordered) - 1))],
        "loop_gaps_over_100ms": float(sum(1 for g in gaps if g > 100)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    app = application(["custos-bench"])  # as the app itself starts: same GIL switch interval, same settings
    folder = Path(tempfile.mkdtemp(prefix="custos-bench-ui-"))
    print(f"seeding {args.users:,} users…", file=sys.stderr)
    seed(folder, args.users)
    runs = []
    for index in range(args.repeats):
        print(f"run {index + 1}/{args.repeats}", file=sys.stderr)
        runs.append({**cold_start(app, folder), **responsiveness(app, folder, args.creates)})  # type: ignore[arg-type]
    print(f"{'metric':<28}{'median':>10}   runs")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:<28}{statistics.median(values):>10.3f}   {', '.join(f'{v:.3f}' for v in values)}")
    cold = statistics.median(r["unlock_to_first_page_s"] for r in runs)
    stall = statistics.median(r["loop_gap_max_ms"] for r in runs)
    print(f"cold start / goal (3 s): {cold / 3:.2f}; longest stall / goal (100 ms): {stall / 100:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
