"""A vault file as an earlier revision of the schema left it, for the migration tests to fill and then unlock."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from app.store import engine as sqlcipher_engine
from app.store import migrate
from app.store.vault import vault_path
from tests.conftest import PASSPHRASE


def engine_at(data_dir: Path, revision: str) -> Engine:
    """A new keyed vault in ``data_dir`` migrated up to ``revision`` only; the caller disposes of the engine."""
    path = vault_path(data_dir)
    salt = sqlcipher_engine.create_database_file(path, PASSPHRASE)
    engine = sqlcipher_engine.make_engine(path, sqlcipher_engine.derive_raw_key(PASSPHRASE, salt), salt)
    migrate.upgrade(engine, revision)
    return engine


def downgrade_to(engine: Engine, revision: str) -> None:
    """Run the migrations down to ``revision`` (a migration test's way back) on ``engine``."""
    from alembic import command

    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def table_columns(engine: Engine, table: str) -> set[str]:
    """The column names ``table`` has now."""
    with engine.connect() as conn:
        return {row[1] for row in conn.execute(text(f"PRAGMA table_info({table})"))}
