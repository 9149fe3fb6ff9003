"""A dispatcher started again while its previous loop, told to stop, is still in a step that outlived the stop's
timeout: one loop, never two pushing the same outbox items."""

from __future__ import annotations

import threading
import time

from app.dsr.restriction import is_restricted
from app.feed import outbox
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher


def _loops() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "custos-dispatcher" and thread.is_alive())


def test_a_start_after_a_stop_that_timed_out_never_runs_two_dispatchers(vault: Vault) -> None:
    dispatcher = Dispatcher(vault, PolicyInForce(vault), restricted=is_restricted, poll_seconds=0.01)
    scanning, finish_scan = threading.Event(), threading.Event()
    real_due = dispatcher._due

    def first_scan_hangs() -> list[outbox.WorkItem]:  # e.g. a vault read held up past the stop's timeout
        if not scanning.is_set():
            scanning.set()
            finish_scan.wait(10)
        return real_due()

    dispatcher._due = first_scan_hangs  # type: ignore[method-assign]
    dispatcher.start()
    assert scanning.wait(5)
    dispatcher.stop(timeout=0.05)  # the loop is left behind, inside its scan
    assert dispatcher.state == "stopping"
    threading.Timer(0.3, finish_scan.set).start()  # the scan returns a moment later
    dispatcher.start()  # before: a second loop started at once beside the old one
    try:
        most = 0
        for _ in range(50):
            most = max(most, _loops())
            time.sleep(0.01)
        assert most == 1 and dispatcher.running
        # before: the old loop, ending on the new loop's state, unset it: wake() reached nothing from then on
        assert dispatcher._loop is not None
    finally:
        dispatcher.stop(timeout=5)
    assert _loops() == 0
