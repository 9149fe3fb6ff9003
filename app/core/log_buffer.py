"""The last few thousand log records, redacted, kept in memory for the in-app log view.

Nothing is written to disk: the view shows what happened in this session, and every message has been
through :func:`~app.core.log_redaction.redact` before it is stored, whatever filters the record met before.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.core.log_redaction import RedactingFilter, exception_outline, redact, render_message

DEFAULT_CAPACITY = 2000
OWN_LOGGERS = ("app", "custos", "__main__")  # Custos's own modules log under "app.…"
# Libraries talk a lot at INFO (one PDF export: ~300 fontTools subsetting lines): in the view, and in the ring
# buffer that would otherwise be flushed by them, only their warnings and errors count.
THIRD_PARTY_LEVEL = logging.WARNING


def is_own(logger_name: str) -> bool:
    return any(logger_name == own or logger_name.startswith(own + ".") for own in OWN_LOGGERS)

LogCallback = Callable[["LogEntry"], None]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One redacted log line; ``message`` may have more lines (an exception outline) after the first."""

    created: datetime  # UTC, aware
    level: str
    levelno: int
    source: str  # the logger's name
    message: str

    def as_text(self) -> str:
        """The line as plain text, in local time, for the clipboard or a bug report."""
        stamp = self.created.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return f"{stamp} {self.level} {self.source}: {self.message}"


def _message(record: logging.LogRecord) -> str:
    message = render_message(record)
    if record.exc_info and record.exc_info[1] is not None:
        message = f"{message}\n{exception_outline(record.exc_info[1])}"
    elif record.exc_text:  # a RedactingFilter (or a formatter) got there first
        message = f"{message}\n{record.exc_text}"
    return redact(message)


class RecentLogRecords(logging.Handler):
    """A thread-safe ring buffer of :class:`LogEntry`, with subscribers told of each new one.

    Subscribers are called on the thread that logged, while the buffer's lock is held: they must be cheap
    and must not wait for another thread (post to a queue, emit a queued Qt signal). In exchange, once the
    function returned by :meth:`subscribe` has returned, the callback is not running and will not run again,
    so its owner may be deleted right away.
    """

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, level: int = logging.NOTSET, third_party_level: int = THIRD_PARTY_LEVEL
    ) -> None:
        super().__init__(level)
        self.third_party_level = third_party_level
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._subscribers: list[LogCallback] = []
        self._lock = threading.RLock()
        self._dispatching = threading.local()  # a subscriber that logs must not be called back for it

    @property
    def capacity(self) -> int:
        return self._entries.maxlen or DEFAULT_CAPACITY

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < self.third_party_level and not is_own(record.name):
            return
        try:
            entry = LogEntry(
                created=datetime.fromtimestamp(record.created, tz=UTC),
                level=record.levelname,
                levelno=record.levelno,
                source=record.name,
                message=_message(record),
            )
        except Exception as error:  # not handleError: it would print the unredacted message
            print(f"Custos log capture failed: {type(error).__name__}", file=sys.stderr)
            return
        with self._lock:
            self._entries.append(entry)
            if getattr(self._dispatching, "active", False):
                return
            self._dispatching.active = True
            try:
                for callback in tuple(self._subscribers):
                    try:
                        callback(entry)
                    except Exception as error:  # one bad subscriber must not stop logging, nor log itself
                        print(f"Custos log subscriber failed: {type(error).__name__}", file=sys.stderr)
            finally:
                self._dispatching.active = False

    def entries(self) -> list[LogEntry]:
        """A snapshot, oldest first."""
        with self._lock:
            return list(self._entries)

    def subscribe(self, callback: LogCallback) -> Callable[[], None]:
        """Call ``callback(entry)`` for each new entry; returns the function that stops it (idempotent)."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:  # waits for a call in progress on another thread
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def snapshot_and_subscribe(self, callback: LogCallback) -> tuple[list[LogEntry], Callable[[], None]]:
        """:meth:`entries` and :meth:`subscribe` at once: each entry is in the snapshot or sent, never both."""
        with self._lock:
            return self.entries(), self.subscribe(callback)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_installed: RecentLogRecords | None = None
_filtered_handlers: list[logging.Handler] = []
_previous_root_level: int | None = None
_install_lock = threading.Lock()


def install_log_capture(level: int = logging.INFO) -> RecentLogRecords:
    """Keep records of ``level`` and above for the log view, and redact what the root handlers write.

    Idempotent: the first call attaches one shared :class:`RecentLogRecords` to the root logger, later calls
    return it. Each call also puts a :class:`RedactingFilter` on root handlers that have none yet, so call it
    after ``logging.basicConfig`` (or again after adding handlers). The root logger's level is lowered to
    ``level`` if it was higher, otherwise the records would never reach the buffer.
    """
    global _installed, _previous_root_level
    root = logging.getLogger()
    with _install_lock:
        if _installed is None:
            _installed = RecentLogRecords(level=level)
            if root.level > level:
                _previous_root_level = root.level
                root.setLevel(level)
            root.addHandler(_installed)
        for handler in list(root.handlers):
            if handler is _installed or any(isinstance(item, RedactingFilter) for item in handler.filters):
                continue
            handler.addFilter(RedactingFilter())
            _filtered_handlers.append(handler)
        return _installed


def installed_log_capture() -> RecentLogRecords | None:
    """The shared buffer if :func:`install_log_capture` ran, else None."""
    return _installed


def uninstall_log_capture() -> None:
    """Undo :func:`install_log_capture` (for tests): handler, filters and root level as they were."""
    global _installed, _previous_root_level
    root = logging.getLogger()
    with _install_lock:
        if _installed is not None:
            root.removeHandler(_installed)
            _installed.close()
            _installed = None
        for handler in _filtered_handlers:
            for item in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(item)
        _filtered_handlers.clear()
        if _previous_root_level is not None:
            root.setLevel(_previous_root_level)
            _previous_root_level = None
