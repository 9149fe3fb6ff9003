"""One lifecycle for every background thread (app/core/periodic.py)."""

from __future__ import annotations

import threading

from app.core.periodic import AsyncLoopService, BackgroundService, PeriodicJob
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
