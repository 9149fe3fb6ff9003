"""Read connections per thread (app/store/readers.py) when the vault closes while other threads read: a connection
in use is never closed under its query, and a retired one is never read on again. Closing one between a reader's
"is it idle?" and its statement crashed the process (SQLite freed under a running query; seen in the full suite as a
segmentation fault when the app locked while the Overview was being read)."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, text

from app.store.readers import ThreadReaders


def test_a_connection_in_use_is_closed_by_its_reader_after_use_not_under_it() -> None:
    engine = create_engine("sqlite://")
    readers = ThreadReaders()
    inside, release = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def read() -> None:
        with readers.connection(engine) as conn:
            inside.set()
            release.wait(5)
            seen["value"] = conn.execute(text("SELECT 1")).scalar()  # the vault closed meanwhile: still readable
            seen["conn"] = conn
        seen["closed_after"] = conn.closed

    reader = threading.Thread(target=read)
    reader.start()
    assert inside.wait(5)
    readers.close_all()  # the vault closes while the read is under way
    release.set()
    reader.join(5)
    assert seen["value"] == 1 and seen["closed_after"] is True


def test_a_retired_connection_is_never_read_on_again() -> None:
    engine = create_engine("sqlite://")
    readers = ThreadReaders()
    with readers.connection(engine) as first:
        pass
    readers.close_all()
    with readers.connection(engine) as second:
        assert second is not first and second.execute(text("SELECT 2")).scalar() == 2
    assert first.closed
