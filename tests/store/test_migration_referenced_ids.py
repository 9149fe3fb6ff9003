"""Migration 0021: a vault made by revision 0020 gets, for every stored ``$ref``, the index row holding the id the
URI ends in, so the resources naming a deleted or erased user are found by an index search (app/erasure/
references.py) for references stored before as well; a downgrade takes those rows away again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from app.directory import repository as repo
from app.directory.schema import ENTERPRISE_SCHEMA
from app.erasure.references import referrers
from app.store import migrate
from app.store.vault import Vault
from tests.conftest import PASSPHRASE, USER_SCHEMA
from tests.store.old_vaults import downgrade_to, engine_at

_ID_ROWS = (
    "SELECT a.rid, a.element, a.value_str, a.value_ci FROM attribute_values a "
    "JOIN attribute_paths p ON p.code = a.code WHERE p.path LIKE '%.$ref#id'"
)


def _user(name: str, manager: dict[str, str] | None = None) -> dict[str, object]:
    document: dict[str, object] = {"schemas": [USER_SCHEMA], "userName": name}
    if manager is not None:
        document[ENTERPRISE_SCHEMA] = {"manager": manager}
    return document


def _vault_at_0020(data_dir: Path) -> None:
    """Three users as revision 0020 indexed them: the manager's URI row, no row for the id it ends in."""
    engine = engine_at(data_dir, "0020")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        repo.insert_resource(conn, "User", "b0ss-0000", _user("boss@example.test"), now)
        by_ref = {"$ref": "../Users/b0ss-0000"}
        repo.insert_resource(conn, "User", "a1ce-0001", _user("alice@example.test", by_ref), now)
        both = {"value": "b0ss-0000", "$ref": "https://idp.example.test/Users/b0ss-0000/"}
        repo.insert_resource(conn, "User", "b0b0-0002", _user("bob@example.test", both), now)
        repo.insert_resource(conn, "User", "c4r0-0003", _user("carol@example.test", {"$ref": "no-slash"}), now)
        # What 0020's indexer did not write (today's does): the rows this revision must add.
        conn.execute(text("DELETE FROM attribute_values WHERE code IN (SELECT code FROM attribute_paths "
                          "WHERE path LIKE '%.$ref#id')"))  # fmt: skip
        conn.execute(text("DELETE FROM attribute_paths WHERE path LIKE '%.$ref#id'"))
    engine.dispose()


def test_a_0020_vault_gets_the_referenced_id_rows_and_finds_referrers_by_them(data_dir: Path) -> None:
    _vault_at_0020(data_dir)
    vault = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert migrate.current_revision(vault.engine) == migrate.head_revision()
        with vault.engine.connect() as conn:
            rows = sorted(tuple(row) for row in conn.execute(text(_ID_ROWS)))
            rid = dict(conn.execute(text("SELECT id, rid FROM scim_resources")).all())
        assert rows == [  # carol's URI ends in no id: no row
            (rid["a1ce-0001"], 0, "b0ss-0000", "b0ss-0000"),
            (rid["b0b0-0002"], 0, "b0ss-0000", "b0ss-0000"),
        ]
        with vault.read_connection() as conn:
            assert referrers(conn, "b0ss-0000") == ["a1ce-0001", "b0b0-0002"]

        downgrade_to(vault.engine, "0020")
        with vault.engine.connect() as conn:
            assert conn.execute(text(_ID_ROWS)).all() == []
    finally:
        vault.close()
