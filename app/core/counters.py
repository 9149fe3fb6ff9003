"""Counts that several threads add to and any thread reads (a background loop, the worker threads it hands vault
work to, a status display).

``self.count += 1`` on an attribute is a read, an add and a write: two threads interleaving there lose counts, and
a reader of two counts could see one updated and not the other. Here every add and every snapshot holds one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping


class Counters:
    """Named whole-number counts, each starting at 0."""

    def __init__(self, *names: str) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(names, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount  # KeyError for a name not declared: a typo must not count elsewhere

    def __getitem__(self, name: str) -> int:
        with self._lock:
            return self._values[name]

    def snapshot(self) -> Mapping[str, int]:
        """Every count as of one moment (a copy: later adds do not change it)."""
        with self._lock:
            return dict(self._values)
