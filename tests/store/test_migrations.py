"""Alembic: a vault made by an earlier schema is upgraded with its data intact; head matches the models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from app import tables
from app.store import migrate
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.store.old_vaults import downgrade_to, engine_at


def _make_old_vault(data_dir: Path) -> None:
    """A vault as version 0001 of Custos left it, with a token in it."""
    engine = engine_at(data_dir, "0001")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO api_tokens (name, token_hash, hint, created) VALUES (:n, :h, :i, :c)"),
            {"n": "legacy", "h": "0" * 64, "i": "cst_abcd", "c": datetime.now(UTC)},
        )
    engine.dispose()


def test_upgrade_from_0001_keeps_data(data_dir: Path) -> None:
    _make_old_vault(data_dir)
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
        columns = {c["name"] for c in inspect(vault.engine).get_columns("api_tokens")}
        assert "last_used_from" in columns
        with vault.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM api_tokens")).scalar() == "legacy"
    finally:
        vault.close()


def test_head_matches_models(vault: Vault) -> None:
    with vault.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert diff == []


def test_every_table_module_is_registered() -> None:
    """app/tables.py is the one explicit list of the packages' tables: a new app/<package>/tables.py that is not
    in it would escape the schema check above (and Alembic's autogenerate)."""
    root = Path(tables.__file__).parent
    on_disk = {f"app.{path.parent.name}.tables" for path in root.glob("*/tables.py")}
    assert on_disk == {module.__name__ for module in tables.MODULES}


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    """Unlock skips Alembic when the vault is at this head (app/store/migrate.py): it must be Alembic's own."""
    assert migrate.declared_head() == migrate.head_revision()


def test_a_vault_behind_the_head_is_still_migrated_by_alembic(vault: Vault) -> None:

    downgrade_to(vault.engine, "-1")
    assert migrate.stored_revision(vault.engine) != migrate.declared_head()
    migrate.upgrade(vault.engine)
    assert migrate.stored_revision(vault.engine) == migrate.head_revision()
