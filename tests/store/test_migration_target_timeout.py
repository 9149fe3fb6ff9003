"""Migration 0023: a target stored by revision 0025 gets the timeout every target had then (15 seconds), and a
downgrade takes the column away again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from app.store import migrate
from app.store.vault import Vault
from app.targets.config import get_target
from tests.conftest import PASSPHRASE
from tests.store.old_vaults import downgrade_to, engine_at, table_columns

_COLUMNS = ("name", "base_url", "recipient_id", "auth_kind", "renames", "erase_mode", "max_concurrency", "enabled")
_TARGETS = sa.table("targets", *(sa.column(n) for n in _COLUMNS), sa.column("created", sa.DateTime(timezone=True)))


def test_a_0025_target_keeps_the_timeout_it_had(data_dir: Path) -> None:
    engine = engine_at(data_dir, "0025")
    with engine.begin() as conn:
        conn.execute(sa.insert(_TARGETS).values(name="old", base_url="https://old.example.test/scim/v2",
                                                recipient_id="app1", auth_kind="none", renames="{}",
                                                erase_mode="delete", max_concurrency=4, enabled=True,
                                                created=datetime(2026, 11, 1, tzinfo=UTC)))  # fmt: skip
    engine.dispose()
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
        with vault.read_connection() as conn:
            old = get_target(conn, "old")
        assert old is not None and old.timeout == 15.0

        downgrade_to(vault.engine, "0025")
        columns = table_columns(vault.engine, "targets")
        assert "timeout_seconds" not in columns and "max_concurrency" in columns
    finally:
        vault.close()
