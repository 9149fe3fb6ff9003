"""Group commit: concurrent writes share transactions, each is durable before its caller returns, and a
failing write is rolled back alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, insert, select

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
