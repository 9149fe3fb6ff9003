"""The in-memory log buffer: bounded, redacted, thread-safe, with subscribers; installed once on the root."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.core.log_buffer import (
    LogEntry,
    RecentLogRecords,
    install_log_capture,
    installed_log_capture,
    uninstall_log_capture,
)
from app.core.log_redaction import RedactingFilter


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A private logger (no propagation), so the tests see only their own records."""
    named = logging.getLogger("app.tests.log_buffer")  # one of Custos's own: INFO is kept
    named.propagate = False
    named.setLevel(logging.DEBUG)
    yield named
    for handler in list(named.handlers):
        named.removeHandler(handler)
    named.propagate = True


def attached(logger: logging.Logger, records: RecentLogRecords) -> RecentLogRecords:
    logger.addHandler(records)
    return records


def test_entries_are_redacted_even_without_the_filter(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    before = datetime.now(UTC)
    logger.warning("user %s from %s", "heidi@example.org", "198.51.100.23")
    (entry,) = records.entries()
    assert entry.message == "user <email> from <ip>"
    assert (entry.level, entry.levelno, entry.source) == ("WARNING", logging.WARNING, "app.tests.log_buffer")
    assert entry.created.tzinfo is not None and entry.created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= entry.created <= datetime.now(UTC)
    assert "heidi" not in entry.as_text() and entry.as_text().endswith(
        "WARNING app.tests.log_buffer: user <email> from <ip>"
    )


def test_an_exception_is_outlined_without_its_message(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    try:
        raise LookupError("ivan@example.org")
    except LookupError:
        logger.exception("lookup failed")
    (entry,) = records.entries()
    assert entry.message.startswith("lookup failed\nTraceback (most recent call last):")
    assert entry.message.endswith("LookupError")
    assert "ivan" not in entry.message


def test_the_ring_keeps_only_the_newest(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords(capacity=5))
    for i in range(12):
        logger.info("line %d", i)
    assert records.capacity == 5
    assert [entry.message for entry in records.entries()] == [f"line {i}" for i in range(7, 12)]


def test_entries_is_a_snapshot_and_clear_empties(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    logger.info("one")
    snapshot = records.entries()
    logger.info("two")
    assert [entry.message for entry in snapshot] == ["one"]
    assert len(records.entries()) == 2
    records.clear()
    assert records.entries() == []
    assert [entry.message for entry in snapshot] == ["one"]


def test_handler_level_is_respected(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords(level=logging.WARNING))
    logger.info("quiet")
    logger.error("loud")
    assert [entry.message for entry in records.entries()] == ["loud"]


def test_subscribe_and_unsubscribe(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    seen: list[LogEntry] = []
    unsubscribe = records.subscribe(seen.append)
    assert records.subscriber_count() == 1
    logger.info("to %s", "judy@example.org")
    unsubscribe()
    unsubscribe()  # idempotent
    logger.info("after")
    assert [entry.message for entry in seen] == ["to <email>"]
    assert seen[0] is records.entries()[0]
    assert records.subscriber_count() == 0


def test_a_failing_subscriber_does_not_stop_the_others(
    logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    records = attached(logger, RecentLogRecords())
    seen: list[str] = []

    def broken(entry: LogEntry) -> None:
        raise RuntimeError(entry.message)

    records.subscribe(broken)
    records.subscribe(lambda entry: seen.append(entry.message))
    logger.info("still here")
    assert seen == ["still here"]
    assert len(records.entries()) == 1
    assert "RuntimeError" in capsys.readouterr().err


def test_a_subscriber_that_logs_is_not_called_back_for_its_own_line(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    seen: list[str] = []

    def chatty(entry: LogEntry) -> None:
        seen.append(entry.message)
        logger.info("echo of %s", entry.message)

    records.subscribe(chatty)
    logger.info("first")
    assert seen == ["first"]
    assert [entry.message for entry in records.entries()] == ["first", "echo of first"]


def test_snapshot_and_subscribe_never_misses_nor_repeats(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords(capacity=10_000))
    stop = threading.Event()

    def produce() -> None:
        i = 0
        while not stop.is_set() or i < 200:
            logger.info("n %d", i)
            i += 1

    worker = threading.Thread(target=produce, name="log-producer")
    worker.start()
    try:
        sent: list[LogEntry] = []
        while len(records.entries()) < 100:
            pass
        snapshot, unsubscribe = records.snapshot_and_subscribe(sent.append)
    finally:
        stop.set()
        worker.join(10)
    unsubscribe()
    assert not worker.is_alive()
    numbers = [int(entry.message.split()[1]) for entry in snapshot + sent]
    assert numbers == list(range(len(numbers)))
    assert len(numbers) == len(records.entries())


def test_logging_from_other_threads(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    callers: set[str] = set()
    lock = threading.Lock()

    def note(entry: LogEntry) -> None:
        with lock:
            callers.add(threading.current_thread().name)

    unsubscribe = records.subscribe(note)

    def work(n: int) -> None:
        for i in range(250):
            logger.info("worker %d line %d for kim%d@example.org", n, i, i)

    threads = [threading.Thread(target=work, args=(n,), name=f"worker-{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    unsubscribe()
    entries = records.entries()
    assert len(entries) == 1000
    assert all(entry.message.endswith("for <email>") for entry in entries)
    assert callers == {f"worker-{n}" for n in range(4)}  # callbacks run on the thread that logged


def test_unsubscribe_waits_for_a_call_in_progress(logger: logging.Logger) -> None:
    records = attached(logger, RecentLogRecords())
    inside = threading.Event()
    release = threading.Event()
    finished: list[str] = []

    def slow(entry: LogEntry) -> None:
        inside.set()
        release.wait(10)
        finished.append(entry.message)

    unsubscribe = records.subscribe(slow)
    worker = threading.Thread(target=logger.info, args=("slow one",), name="slow-logger")
    worker.start()
    assert inside.wait(10)
    done = threading.Event()
    stopper = threading.Thread(target=lambda: (unsubscribe(), done.set()), name="unsubscriber")
    stopper.start()
    assert not done.wait(0.2)  # blocked while the callback runs
    release.set()
    stopper.join(10)
    worker.join(10)
    assert done.is_set() and finished == ["slow one"]


@pytest.fixture
def root_console() -> Iterator[io.StringIO]:
    """A console handler on the root logger as basicConfig would add; root and capture restored after."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    yield stream
    uninstall_log_capture()
    root.removeHandler(handler)
    root.setLevel(level)


def test_install_is_idempotent_and_redacts_the_console(root_console: io.StringIO) -> None:
    root = logging.getLogger()
    assert installed_log_capture() is None
    first = install_log_capture()
    second = install_log_capture()
    assert first is second is installed_log_capture()
    assert sum(handler is first for handler in root.handlers) == 1
    console = next(h for h in root.handlers if isinstance(h, logging.StreamHandler) and h.stream is root_console)
    assert sum(isinstance(item, RedactingFilter) for item in console.filters) == 1
    assert root.level == logging.INFO  # lowered from WARNING, or INFO records would never arrive

    logging.getLogger("app.tests.log_buffer.console").info("hello %s", "leo@example.org")
    assert root_console.getvalue() == "INFO app.tests.log_buffer.console: hello <email>\n"
    assert [entry.message for entry in first.entries()] == ["hello <email>"]


def test_install_filters_handlers_added_later_on_the_next_call(root_console: io.StringIO) -> None:
    root = logging.getLogger()
    install_log_capture()
    late = logging.StreamHandler(io.StringIO())
    root.addHandler(late)
    try:
        assert not late.filters
        install_log_capture()
        assert sum(isinstance(item, RedactingFilter) for item in late.filters) == 1
    finally:
        uninstall_log_capture()
        root.removeHandler(late)
    assert not late.filters


def test_uninstall_restores_the_root(root_console: io.StringIO) -> None:
    root = logging.getLogger()
    handlers = list(root.handlers)
    records = install_log_capture(logging.DEBUG)
    assert root.level == logging.DEBUG
    uninstall_log_capture()
    uninstall_log_capture()  # twice is harmless
    assert root.handlers == handlers
    assert root.level == logging.WARNING
    assert installed_log_capture() is None
    assert all(not any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
    logging.getLogger("tests.log_buffer.after").warning("not captured")
    assert records.entries() == []
    assert install_log_capture() is not records  # a fresh one after an uninstall


def test_third_party_chatter_is_kept_from_warning_up_only() -> None:
    """Issue 14 §7: one PDF export logged ~300 fontTools INFO lines and flushed Custos's own out of the view."""
    records = RecentLogRecords(capacity=100)
    chatty = logging.getLogger("fontTools.subset")
    own = logging.getLogger("app.exports.ropa")
    for logger in (chatty, own):
        logger.addHandler(records)
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
    try:
        for n in range(300):
            chatty.info("subsetting glyph %d", n)
        own.info("Article 30 records exported")
        chatty.warning("a font could not be read")
        assert [(e.source, e.level) for e in records.entries()] == [
            ("app.exports.ropa", "INFO"),
            ("fontTools.subset", "WARNING"),
        ]
    finally:
        for logger in (chatty, own):
            logger.removeHandler(records)
            logger.propagate = True
