"""One lifecycle for every background thread (app/core/periodic.py)."""

from __future__ import annotations

import threading

import pytest

from app.core.periodic import AsyncLoopService, BackgroundService, PeriodicJob, StillStopping
from app.erasure.worker import ErasureWorker
from app.siem.alerts import AlertWatcher
from app.siem.forwarder import SiemForwarder
from app.targets.dispatcher import Dispatcher


def test_every_service_of_the_runtime_shares_the_one_base() -> None:
    assert issubclass(Dispatcher, AsyncLoopService) and issubclass(ErasureWorker, AsyncLoopService)
    assert issubclass(AlertWatcher, BackgroundService) and issubclass(SiemForwarder, BackgroundService)
    assert issubclass(PeriodicJob, BackgroundService)


def test_a_second_start_is_a_no_op_and_stop_returns_promptly() -> None:
    turns = threading.Semaphore(0)
    job = PeriodicJob("probe", turns.release, interval=0.01, first_delay=0)
    job.start()
    first = job._thread
    job.start()
    assert job._thread is first  # not a second thread doing the same work
    assert turns.acquire(timeout=5)
    job.stop()
    assert not job.running and first is not None and not first.is_alive()


def test_a_thread_that_will_not_stop_is_named_and_left_behind(caplog) -> None:
    release = threading.Event()

    class Stuck(BackgroundService):
        def _run(self) -> None:
            release.wait(5)

    stuck = Stuck("stuck")
    stuck.start()
    stuck.stop(timeout=0.05)
    release.set()
    assert "custos-stuck did not stop" in caplog.text


def test_wake_reaches_the_loop_from_another_thread() -> None:
    woken = threading.Event()

    class Probe(AsyncLoopService):
        async def _main(self) -> None:
            assert self._wake is not None
            while not self.stopping:
                await self._wake.wait()
                self._wake.clear()
                if not self.stopping:
                    woken.set()

    probe = Probe("probe-loop")
    probe.start()
    probe.wake()
    assert woken.wait(5)
    probe.stop()
    assert not probe.running


class _Stuck(BackgroundService):
    """A loop whose turn ignores the stop until ``release`` (a call that outlives its own timeout)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.release = threading.Event()
        self.live = 0
        self.most = 0
        self._count = threading.Lock()

    def _run(self) -> None:
        with self._count:
            self.live += 1
            self.most = max(self.most, self.live)
        try:
            while not self.stopping:
                self.release.wait(5)
        finally:
            with self._count:
                self.live -= 1


def test_a_start_right_after_a_stop_that_left_its_loop_behind_never_makes_a_second_loop() -> None:
    stuck = _Stuck("straggler")
    stuck.start()
    stuck.stop(timeout=0.05)  # the loop is left behind, still in its turn
    threading.Timer(0.3, stuck.release.set).start()  # its call returns a moment later
    stuck.start()  # before: a second thread started at once, and the old loop saw the stop cleared and went on
    try:
        assert stuck.running and stuck.most == 1  # the new loop started once the old one had ended
    finally:
        stuck.stop(timeout=5)
    assert stuck.live == 0


def test_a_loop_left_behind_is_said_to_be_stopping_and_a_start_that_cannot_wait_for_it_is_refused() -> None:
    stuck = _Stuck("refused")
    stuck.start()
    stuck.stop(timeout=0.05)
    assert stuck.state == "stopping" and not stuck.running  # told to stop, not yet ended
    with pytest.raises(StillStopping):
        stuck.start(wait=0.05)
    assert stuck.most == 1 and stuck.stopping  # nothing started, and the old loop still sees its stop
    stuck.release.set()
    stuck.start(wait=5)
    assert stuck.state == "running" and stuck.most == 1
    stuck.stop(timeout=5)
    assert stuck.state == "stopped" and stuck.live == 0


def test_a_stop_that_left_its_thread_behind_keeps_it_and_a_later_stop_joins_it() -> None:
    stuck = _Stuck("joined-later")
    stuck.start()
    stuck.stop(timeout=0.05)
    left = stuck._thread
    assert left is not None and left.is_alive()  # before: forgotten (None) while it still ran
    stuck.release.set()
    stuck.stop(timeout=5)
    assert not left.is_alive() and stuck.state == "stopped"
