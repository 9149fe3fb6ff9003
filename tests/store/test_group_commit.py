"""Group commit: concurrent writes share transactions, each is durable before its caller returns, and a
failing write is rolled back alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, insert, select

from app.core.errors import StorageFull
from app.store.group_commit import GroupCommitWriter
from app.store.models import ApiToken
from app.store.vault import Vault


def add_token(name: str) -> object:
    def work(conn: Connection) -> str:
        conn.execute(
            insert(ApiToken),
            {"name": name, "token_hash": name.ljust(64, "0"), "hint": "cst_", "created": datetime.now(UTC)},
        )
        return name

    return work


def count_tokens(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return conn.execute(select(func.count()).select_from(ApiToken)).scalar() or 0


def test_concurrent_writes_share_commits_and_are_all_durable(vault: Vault) -> None:
    writer = GroupCommitWriter(vault)
    results: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        for n in range(25):
            value = writer.run(add_token(f"t{index:02d}-{n:02d}"))
            with lock:
                results.append(value)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.stop()
    assert len(results) == 200
    assert count_tokens(vault) == 200
    assert writer.jobs == 200
    assert writer.batches < 200  # several writes shared a commit


def test_a_failing_write_is_rolled_back_alone(vault: Vault) -> None:
    writer = GroupCommitWriter(vault)
    writer.run(add_token("first"))

    def half_then_fail(conn: Connection) -> None:
        add_token("half-written")(conn)
        raise ValueError("refused")

    with pytest.raises(ValueError):
        writer.run(half_then_fail)
    writer.run(add_token("after"))
    writer.stop()
    with vault.read_connection() as conn:
        names = set(conn.execute(select(ApiToken.name)).scalars())
    assert names == {"first", "after"}


def test_a_full_disk_fails_every_write_it_undid_and_the_writer_goes_on(vault: Vault) -> None:
    """On SQLITE_FULL, SQLite may roll back the whole transaction: the writes before the failing one in the same
    batch are gone too, so none of them may be reported as durable (they were, before: an acknowledged write
    lost). The failure is StorageFull, and the writer keeps serving once space is back."""
    writer = GroupCommitWriter(vault)
    gate, holding = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def hold(conn: Connection) -> None:
        holding.set()
        gate.wait(5)

    def fill_the_disk(conn: Connection) -> None:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        conn.exec_driver_sql("INSERT INTO ballast VALUES (zeroblob(200000))")  # a large value: SQLite aborts all

    writer.run(lambda conn: conn.exec_driver_sql("CREATE TABLE ballast (x BLOB)"))

    def submit(name: str, work: object) -> None:
        try:
            outcomes[name] = writer.run(work)  # type: ignore[arg-type]
        except Exception as exc:
            outcomes[name] = exc

    first = threading.Thread(target=submit, args=("hold", hold))
    first.start()
    assert holding.wait(5)
    threads = []
    for name, work in (("before", add_token("before-the-full-disk")), ("full", fill_the_disk)):
        threads.append(threading.Thread(target=submit, args=(name, work)))
        threads[-1].start()
        while writer._queue.qsize() < len(threads):  # queued in this order, to share the next batch
            threading.Event().wait(0.005)
    gate.set()
    for thread in [first, *threads]:
        thread.join(10)

    assert isinstance(outcomes["full"], StorageFull)
    with vault.read_connection() as conn:
        durable = conn.execute(select(ApiToken.name).where(ApiToken.name == "before-the-full-disk")).first()
    assert durable is None and isinstance(outcomes["before"], StorageFull)

    writer.run(lambda conn: conn.exec_driver_sql("PRAGMA max_page_count = 1073741823"))  # space is back
    assert writer.run(add_token("after")) == "after"
    writer.stop()
