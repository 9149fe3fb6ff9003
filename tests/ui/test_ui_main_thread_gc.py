"""Cycles are collected on the GUI thread only: a worker allocating past every threshold frees none."""

from __future__ import annotations

import gc
import threading
import weakref

from app.ui.main_thread_gc import collect_on_main_thread


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_a_worker_thread_never_collects_and_the_gui_thread_does(qapp: object) -> None:
    collector = collect_on_main_thread(qapp)  # type: ignore[arg-type]
    assert not gc.isenabled() and collector.timer.isActive()
    gc.collect()
    node = Node()
    alive = weakref.ref(node)
    del node

    kept: list[list[object]] = []

    def allocate() -> None:
        kept.extend([] for _ in range(50_000))  # container allocations, kept: far past generation 0's threshold

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert alive() is not None  # nothing collected on the worker
    assert gc.get_count()[0] > collector.thresholds[0]
    collector.collect_due()  # on this (the GUI) thread, as the timer does
    assert alive() is None
    kept.clear()
