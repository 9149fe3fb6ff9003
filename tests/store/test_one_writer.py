"""One write connection per process, a kept read connection per reader thread, and caches that another process's
change invalidates (app/store/writer.py, readers.py, change_watch.py; decision 0031)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from app.feed import outbox
from app.feed.tables import OutboxItem, Target
from app.policy.in_force import PolicyInForce
from app.store.group_commit import GroupCommitWriter
from app.store.vault import Vault
from app.store.writer import NestedWrite
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]


def _add_target(conn: object, name: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        insert(Target.__table__).values(
            name=name,
            base_url="https://t.example/scim/v2",
            recipient_id="r",
            auth_kind="none",
            created=datetime.now(UTC),
        )
    )


def _queued(vault: Vault, resource_id: str) -> int:
    with vault.write_transaction() as conn:
        return outbox.enqueue(conn, "User", resource_id, "upsert")


def test_every_thread_writes_on_the_same_single_connection(vault: Vault) -> None:
    seen: list[int] = []

    def write() -> None:
        with vault.write_transaction() as conn:
            seen.append(id(conn.connection.driver_connection))
            conn.exec_driver_sql("UPDATE vault_info SET value = value WHERE key = 'vault_id'")

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with vault.write_session() as session:
        seen.append(id(session.connection().connection.driver_connection))
    assert len(seen) == 9 and len(set(seen)) == 1


def test_a_write_inside_a_write_on_one_thread_is_refused_at_once(vault: Vault) -> None:
    started = time.monotonic()
    with vault.write_transaction(), pytest.raises(NestedWrite), vault.write_transaction():
        pass
    assert time.monotonic() - started < 1.0  # not the busy timeout's ten seconds


def test_a_reader_thread_keeps_one_warm_connection_and_threads_do_not_share(vault: Vault) -> None:
    opened_before = vault.readers.opened
    mine = set()
    for _ in range(50):
        with vault.read_connection() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM scim_resources").scalar()
            mine.add(id(conn.connection.driver_connection))
    other: list[int] = []

    def read() -> None:
        with vault.read_connection() as conn:
            other.append(id(conn.connection.driver_connection))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert len(mine) == 1  # fifty reads, one connection: its page cache is the one that stays warm
    assert other and other[0] not in mine
    assert vault.readers.opened - opened_before == 2


def test_closing_the_vault_closes_every_kept_read_connection(vault: Vault) -> None:
    with vault.read_connection() as conn:
        dbapi = conn.connection.driver_connection
    vault.close()
    with pytest.raises(Exception, match="closed"):
        dbapi.execute("SELECT 1")


def test_the_enabled_targets_are_read_once_and_dropped_when_this_process_changes_them(vault: Vault) -> None:
    watch = vault.changes
    assert _queued(vault, "u1") == 0
    misses = watch.misses
    assert _queued(vault, "u2") == 0
    assert watch.misses == misses  # cached: no read of the targets table
    with vault.write_transaction() as conn:
        _add_target(conn, "one")
        assert outbox.enqueue(conn, "User", "u3", "upsert") == 1  # the transaction that added it sees it
    assert _queued(vault, "u4") == 1


def test_a_change_rolled_back_leaves_no_stale_cache(vault: Vault) -> None:
    assert _queued(vault, "u1") == 0
    with pytest.raises(RuntimeError), vault.write_transaction() as conn:
        _add_target(conn, "gone")
        assert outbox.enqueue(conn, "User", "u2", "upsert") == 1
        raise RuntimeError("rolled back")
    assert _queued(vault, "u3") == 0


def _in_another_process(data_dir: Path, code: str) -> None:
    """``code`` runs with ``vault`` open on the same file in a separate Python process (as a CLI command would)."""
    script = (
        "import sys\n"
        "from app.store.vault import Vault\n"
        "vault = Vault.unlock(__import__('pathlib').Path(sys.argv[1]), sys.stdin.read())\n"
        f"{code}\n"
        "vault.close()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(data_dir)], input=PASSPHRASE, text=True, cwd=ROOT, check=True, timeout=120
    )


def test_cached_targets_and_policy_version_are_dropped_when_another_process_changes_them(
    vault: Vault, data_dir: Path
) -> None:
    policy = PolicyInForce(vault)
    with vault.write_transaction() as conn:
        version = policy.for_connection(conn).version
    assert _queued(vault, "u1") == 0  # both values are now cached on this process's writer
    _in_another_process(
        data_dir,
        "from datetime import UTC, datetime\n"
        "from sqlalchemy import insert\n"
        "from app.policy import versions\n"
        "from app.feed.tables import Target\n"
        "with vault.write_transaction() as conn:\n"
        "    conn.execute(insert(Target.__table__).values(name='cli', base_url='https://t.example/scim/v2',"
        " recipient_id='r', auth_kind='none', created=datetime.now(UTC)))\n"
        "    versions.insert_version(conn, versions.in_force(conn).text, 'other-process')\n",
    )
    assert _queued(vault, "u2") == 1  # the target the other process added gets the item
    with vault.write_transaction() as conn:
        assert policy.for_connection(conn).version == version + 1
        rows = conn.execute(select(OutboxItem.__table__.c.resource_id)).scalars().all()
    assert rows == ["u2"]


def test_a_batch_waits_briefly_for_an_announced_write_and_a_lone_write_does_not_wait(vault: Vault) -> None:
    writer = GroupCommitWriter(vault, gather_seconds=0.5)  # long enough to see on a loaded machine
    try:
        started = time.monotonic()
        writer.run(lambda conn: None)
        assert time.monotonic() - started < 0.4  # nothing announced: committed at once
        batches = writer.batches
        announced = threading.Event()
        done: list[float] = []

        def late_writer() -> None:
            with writer.arriving():
                announced.set()
                time.sleep(0.05)  # validating its body
                writer.run(lambda conn: None)
            done.append(time.monotonic())

        thread = threading.Thread(target=late_writer)
        thread.start()
        announced.wait(5)
        writer.run(lambda conn: None)  # queued while the other write is still on its way
        thread.join()
        assert writer.batches - batches == 1  # both writes shared one commit
    finally:
        writer.stop()


def test_outbox_listeners_hear_of_committed_items_only(vault: Vault) -> None:
    heard: list[frozenset[str]] = []
    unsubscribe = vault.changes.subscribe(heard.append)
    try:
        assert _queued(vault, "nobody") == 0
        assert heard == []  # a write that queued nothing wakes nobody
        with vault.write_transaction() as conn:
            _add_target(conn, "one")
        heard.clear()
        with pytest.raises(RuntimeError), vault.write_transaction() as conn:
            outbox.enqueue(conn, "User", "u1", "upsert")
            raise RuntimeError("rolled back")
        assert heard == []
        assert _queued(vault, "u2") == 1
        assert len(heard) == 1 and "outbox" in heard[0]
    finally:
        unsubscribe()


def test_a_tombstone_written_by_another_process_blocks_the_next_create(vault: Vault, data_dir: Path) -> None:
    """The "no tombstone at all" shortcut of every create is cached, and another process's erasure drops it."""
    from app.core.events import EventBus
    from app.erasure.tombstones import ErasedSubjectReturned
    from app.scim.service import ScimService
    from tests.conftest import new_user
    from tests.policy_support import hold_everything

    hold_everything(vault)
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus())
    try:
        assert service.create("User", new_user("first@example.org")).status == 201  # caches: nobody is blocked
        _in_another_process(
            data_dir,
            "from datetime import UTC, datetime\n"
            "from app.erasure import tombstones\n"
            "with vault.write_transaction() as conn:\n"
            "    tombstones.record(conn, 'req-other', 0, {'userName': 'gone@example.org'}, datetime.now(UTC))\n",
        )
        with pytest.raises(ErasedSubjectReturned):
            service.create("User", new_user("gone@example.org"))
    finally:
        service.close()


def test_an_idle_erasure_worker_does_not_take_the_writer(vault: Vault) -> None:
    """It looked every half second, and after every DELETE, inside a write transaction; with nothing to claim and
    no request open, a read now says so and the one writer stays free for SCIM writes."""
    from app.erasure.worker import ErasureWorker

    worker = ErasureWorker(vault)
    before = vault.writer.transactions
    for _ in range(5):
        assert worker._record_and_claim([]) == []
    assert vault.writer.transactions == before
