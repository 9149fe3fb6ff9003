"""Background tasks: what a task's callable closes over is freed on the GUI thread, never on a pool thread.

A callable such as ``lambda: load(self.vault)`` keeps its widget alive; if the widget is closed while the task
runs, the callable holds its last reference, and freeing it on the pool thread deletes Qt objects there, which
PySide does not survive (a segfault seen in the full suite).
"""

from __future__ import annotations

import threading
import time
import weakref

from pytestqt.qtbot import QtBot

from app.ui.workers import submit


class Held:
    """Stands for a widget a task's callable closes over."""


def slow_answer(_held: Held) -> int:
    time.sleep(0.05)
    return 7


def test_a_task_s_closure_is_freed_on_the_gui_thread(qtbot: QtBot) -> None:
    freed_on: list[str] = []
    results: list[int] = []
    held = Held()
    weakref.finalize(held, lambda: freed_on.append(threading.current_thread().name))

    submit(lambda captured=held: slow_answer(captured), results.append)  # the shape page code uses
    del held  # from now on the task's callable holds the last reference
    qtbot.waitUntil(lambda: results == [7] and freed_on != [], timeout=5000)
    assert freed_on == [threading.main_thread().name]
