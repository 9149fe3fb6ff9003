"""Python's cycle collector, run on the GUI thread only.

The collector normally runs in whichever thread happens to allocate when a threshold trips: the SCIM server,
a pool worker. A cycle that holds Qt wrappers (a widget and a lambda that refers to it, say) is then freed on
that thread, and PySide 6.11 crashes deleting Qt objects there (``BindingManager::runDeletionInMainThread``;
decision 0013). So automatic collection is switched off and a timer on the GUI thread collects instead, by
the same generation thresholds. Reference counting, which frees almost everything, is unaffected.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        gc.disable()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold, as the interpreter would."""
        counts = gc.get_count()
        due = [generation for generation in range(3) if counts[generation] > self.thresholds[generation]]
        return gc.collect(due[-1]) if due else 0


_collector: MainThreadCollector | None = None


def collect_on_main_thread(parent: QObject) -> MainThreadCollector:
    """Install once (idempotent) with ``parent`` (the application) as owner."""
    global _collector
    if _collector is None:
        _collector = MainThreadCollector(parent)
        _collector.start()
    return _collector
