"""Prepared statements on the DB-API cursor (app/store/fastsql.py) write and read what SQLAlchemy would: the same
stored bytes for typed columns (a packed document, integer times, booleans), and the same error family, so a
userName clash on the prepared INSERT is still answered 409 by the service."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.store.fastsql import FastStatement
from app.store.models import ScimResource
from app.store.vault import Vault

_R = ScimResource.__table__
WHEN = datetime(2026, 12, 1, 10, 30, 15, 123456, tzinfo=UTC)


def row(resource_id: str, user_name: str, rid: int) -> dict[str, Any]:
    return {
        "id": resource_id,
        "rid": rid,
        "resource_type": "User",
        "document": json.dumps({"userName": user_name, "active": False}, separators=(",", ":")),
        "version": 1,
        "created": WHEN,
        "modified": WHEN,
        "deactivated_at": WHEN,
        "user_name": user_name,
        "user_name_ci": user_name.lower(),
        "display_name": None,
        "display_name_ci": None,
        "external_id": None,
        "active": False,
    }


TYPED_INSERT = FastStatement.insert_into(_R)
RAW = FastStatement(select(*_R.columns).where(_R.c.id == bindparam("id")))  # as SQLite holds the row


def test_a_typed_insert_stores_the_bytes_sqlalchemy_stores(vault: Vault) -> None:
    with vault.write_transaction() as conn:
        conn.execute(insert(_R), row("00000000-0000-7000-8000-00000000000a", "via.sqlalchemy@example.org", 9001))
        TYPED_INSERT.execute_many(conn, [row("00000000-0000-7000-8000-00000000000b", "via.sqlalchemy@example.org"
                                                .replace("sqlalchemy", "cursor1"), 9002)])  # fmt: skip
    with vault.read_connection() as conn:
        by_sqlalchemy = RAW.fetchone(conn, {"id": "00000000-0000-7000-8000-00000000000a"})
        by_cursor = RAW.fetchone(conn, {"id": "00000000-0000-7000-8000-00000000000b"})
        typed_read = FastStatement(select(_R.c.created, _R.c.active, _R.c.document).where(_R.c.rid == 9002), typed=True)
        created, active, document = typed_read.fetchone(conn)
    names = [c.name for c in _R.columns]
    differing = {n for n, a, b in zip(names, by_sqlalchemy, by_cursor, strict=True) if a != b}
    assert differing == {"id", "rid", "document", "user_name", "user_name_ci"}  # the values that were different
    for name in ("created", "modified", "deactivated_at", "active"):  # stored as SQLAlchemy's types store them
        assert type(by_cursor[names.index(name)]) is type(by_sqlalchemy[names.index(name)])
    assert isinstance(by_cursor[names.index("document")], bytes)  # packed, not the JSON text
    assert (created, active, document) == (
        WHEN.replace(tzinfo=None),  # the column's reading: naive UTC, as through SQLAlchemy
        False,
        '{"userName":"via.cursor1@example.org","active":false}',
    )


def test_a_driver_error_is_raised_as_sqlalchemys(vault: Vault) -> None:
    clash = row("00000000-0000-7000-8000-00000000000c", "same.name@example.org", 9003)
    with vault.write_transaction() as conn:
        TYPED_INSERT.execute(conn, clash)
        with pytest.raises(IntegrityError) as raised:
            TYPED_INSERT.execute_many(conn, [{**clash, "id": "00000000-0000-7000-8000-00000000000d", "rid": 9004}])
        conn.execute(delete(_R).where(_R.c.rid == 9003))
    assert "same.name" not in str(raised.value)  # the parameters (personal data) are not in the message
    assert "UNIQUE" in str(raised.value.orig)
