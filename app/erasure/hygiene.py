"""After an erasure commits: fold the WAL into the main file, rewrite free pages, and truncate the WAL again,
reporting what SQLite says it did (the facts go on the receipt).

secure_delete has zeroed the deleted cells in their pages; the WAL still holds earlier page images until a
checkpoint, and VACUUM rebuilds the file so that no freed page is left. A checkpoint blocked by a reader is
retried briefly; if it still cannot finish, the receipt says so instead of claiming it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from app.store.engine import SINGLE_STATEMENT_READS_OPTION

CHECKPOINT_TRIES = 20
CHECKPOINT_PAUSE_SECONDS = 0.05


@dataclass(frozen=True)
class StorageFacts:
    secure_delete: bool
    wal_checkpointed: bool
    vacuumed: bool
    wal_truncated: bool  # the -wal file holds no page after the erasure
    wal_bytes_after: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _truncate(conn: Any) -> bool:
    for _ in range(CHECKPOINT_TRIES):
        busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy == 0:
            return True
        time.sleep(CHECKPOINT_PAUSE_SECONDS)
    return False


def scrub(engine: Engine, database: Path) -> StorageFacts:
    with engine.connect() as conn:
        return scrub_on(conn, database)


def scrub_on(conn: Connection, database: Path) -> StorageFacts:
    """On an open vault, ``conn`` is its one write connection (VACUUM writes the whole file; decision 0031)."""
    # No BEGIN around these: VACUUM refuses to run inside a transaction, and a checkpoint from inside a read
    # transaction could not pass its own snapshot. (SQLAlchemy begins one on a pooled connection, so it
    # cannot be used here.)
    conn.execution_options(**{SINGLE_STATEMENT_READS_OPTION: True})
    secure = str(conn.exec_driver_sql("PRAGMA secure_delete").scalar()) == "1"
    checkpointed = _truncate(conn)
    try:
        conn.exec_driver_sql("VACUUM")
        vacuumed = True
    except OperationalError:  # another writer held the lock past busy_timeout: reported, and tried again
        vacuumed = False
    truncated = _truncate(conn)
    wal = Path(str(database) + "-wal")
    # Pages written by others after the truncating checkpoint may already be back in the WAL: they are newer
    # than the erasure, so "truncated" is what the checkpoint reported, and the size is informative only.
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    return StorageFacts(secure, checkpointed, vacuumed, truncated, wal_bytes)


def complete(facts: dict[str, Any] | None) -> bool:
    """Whether recorded storage facts show the erasure reached the file: vacuumed and the WAL truncated."""
    return bool(facts and facts.get("vacuumed") and facts.get("wal_truncated"))
