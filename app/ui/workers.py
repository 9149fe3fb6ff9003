"""Run slow calls (the KDF, SQL queries, server start-up) on QThreadPool, answering on the GUI thread.

``submit`` must be called from the GUI thread: the signals object is created there, so its result and
error signals are delivered there (queued) whatever thread the work ran on. Pass bound methods of QObjects
as callbacks: Qt drops the delivery if the receiver was deleted meanwhile.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    result = Signal(object)
    error = Signal(object)  # the exception instance
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.work: Callable[[], Any] | None = None  # the task's callable while it runs (see Worker.run)

    def call_work(self) -> Any:
        """Call the parked callable, holding no reference to it past the call (no local variable in run())."""
        assert self.work is not None  # Qt runs a runnable once
        return self.work()


class Worker(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        # Run in the submitter's context: the acting operator (app.core.actor) must reach the audit trail.
        context = contextvars.copy_context()
        self.fn: Callable[[], Any] | None = functools.partial(context.run, fn)
        self.signals = WorkerSignals()
        self.setAutoDelete(True)

    def run(self) -> None:
        # The callable often closes over a widget (``lambda: load(self.vault)``). Its last reference must not die
        # on this pool thread: a widget closed meanwhile would then be deleted here, and PySide crashes deleting
        # Qt objects off the GUI thread (seen as a segfault in the full suite). So the callable is parked on the
        # signals object, and the GUI thread takes it off when it handles ``done`` (``_release``).
        self.signals.work, self.fn = self.fn, None
        try:
            value = self.signals.call_work()
        except Exception as exc:  # handed to the GUI, which shows exc.user_message or a generic text
            log.debug("background task failed: %s", type(exc).__name__)
            self.signals.error.emit(exc)
        else:
            self.signals.result.emit(value)
        finally:
            self.signals.done.emit()


# Keeps each WorkerSignals alive until its queued signals have been delivered.
_in_flight: set[WorkerSignals] = set()


def _release(signals: WorkerSignals | None) -> None:
    """On the GUI thread, once a task is done: drop its callable (and what it closes over) here, then the signals."""
    if signals is None:
        return
    signals.work = None
    _in_flight.discard(signals)


def submit(
    fn: Callable[[], Any],
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    pool: QThreadPool | None = None,
) -> Worker:
    worker = Worker(fn)
    signals = worker.signals
    if on_result is not None:
        signals.result.connect(on_result)
    if on_error is not None:
        signals.error.connect(on_error)
    _in_flight.add(signals)
    ref = weakref.ref(signals)  # a strong reference here would make a cycle through the connection
    signals.done.connect(lambda: _release(ref()))
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


class NewestAnswer(QObject):
    """Reads of one view submitted again and again (a timer, an action, a tab chosen) answer in the order they
    started: the pool runs several at once, and a read that began before a change could finish after the read made
    for it, putting the view back to what the change replaced until something read it again. An answer older than
    one already shown is dropped; a failure is always passed on.

    Parented to the view, so that its deletion drops answers still queued, as for any QObject receiver.
    """

    def __init__(
        self, parent: QObject, on_result: Callable[[Any], None], on_error: Callable[[Exception], None] | None = None
    ) -> None:
        super().__init__(parent)
        self._on_result = on_result
        self._on_error = on_error
        self._started = 0
        self._shown = 0

    def submit(self, fn: Callable[[], Any]) -> Worker:
        self._started += 1
        ticket = self._started
        return submit(lambda: (ticket, fn()), self._answered, self._failed)

    def _answered(self, answer: tuple[int, Any]) -> None:
        ticket, value = answer
        if ticket < self._shown:
            return  # a newer read has been shown: this one may predate a change
        self._shown = ticket
        self._on_result(value)

    def _failed(self, exc: Exception) -> None:
        if self._on_error is not None:
            self._on_error(exc)
