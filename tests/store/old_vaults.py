"""A vault file as an earlier revision of the schema left it, for the migration tests to fill and then unlock."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

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
