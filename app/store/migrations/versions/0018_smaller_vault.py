"""A smaller vault (issue 16 step 2): path codes, packed documents, integer times.

* ``attribute_paths`` (code, path): every path the index holds, each under a code given on first use.
* ``attribute_values`` is keyed (rid, code, element) and its two partial value indexes are (code, value, rid): the
  path's text (``emails.value``, ``name.familyname``, an enterprise attribute's 60-character URN path) was in each
  of a user's rows and again in each of its index entries.
* ``scim_resources.document`` is stored packed (app/store/packed_json.py: DEFLATE primed with SCIM's names, a
  format byte first); the column stays TEXT, which holds a BLOB as it is.
* ``scim_resources.created``, ``modified`` and ``deactivated_at`` hold microseconds since 1970 UTC, an 8-byte
  integer where SQLAlchemy's text took 26 (app/store/epoch_time.py); the columns stay DATETIME, and their indexes
  follow the new values.

See decision 0033.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from app.store.epoch_time import from_micros, to_micros
from app.store.packed_json import pack, unpack

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

VALUES = "element, value_str, value_ci, value_num, value_bool"
FROM_A = ", ".join(f"a.{name}" for name in VALUES.split(", "))


def _value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("element", sa.Integer(), nullable=False),
        sa.Column("value_str", sa.Text(), nullable=True),
        sa.Column("value_ci", sa.Text(), nullable=True),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
    ]


def _rid_column() -> sa.Column[object]:
    return sa.Column("rid", sa.Integer(), sa.ForeignKey("scim_resources.rid", ondelete="CASCADE"), nullable=False)


def _value_indexes(key: str) -> None:
    for name, column in (("ix_attr_path_ci", "value_ci"), ("ix_attr_path_num", "value_num")):
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "attribute_values", [key, column, "rid"], sqlite_where=condition)


BATCH = 500
TIMES = ("created", "modified", "deactivated_at")
_TEXT_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DATETIME wrote them


def _packed_row(document: Any, *times: Any) -> tuple[Any, ...]:
    """0018's form: the document packed, the times as microseconds since 1970 UTC (either may be done already)."""
    packed = pack(document) if isinstance(document, str) else document
    return (packed, *(to_micros(_parsed(moment)) if isinstance(moment, str) else moment for moment in times))


def _text_row(document: Any, *times: Any) -> tuple[Any, ...]:
    """0017's form: the document as JSON text, the times as SQLAlchemy's text."""
    text = (from_micros(moment).strftime(_TEXT_TIME) if isinstance(moment, int) else moment for moment in times)
    return (unpack(document), *text)


def _parsed(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rewrite_resources(convert: Callable[..., tuple[Any, ...]]) -> None:
    """Rewrite every resource's document and times with ``convert``, in rowid order, a batch at a time."""
    conn = op.get_bind()
    columns = ", ".join(("document", *TIMES))
    assignments = ", ".join(f"{name} = ?" for name in ("document", *TIMES))
    last = 0
    while True:
        rows = conn.exec_driver_sql(
            f"SELECT rowid, {columns} FROM scim_resources WHERE rowid > ? ORDER BY rowid LIMIT {BATCH}", (last,)
        ).all()
        if not rows:
            return
        conn.exec_driver_sql(
            f"UPDATE scim_resources SET {assignments} WHERE rowid = ?",
            [(*convert(*values), rowid) for rowid, *values in rows],
        )
        last = rows[-1][0]


def _rebuild_values(table: str, key: sa.Column[object], joined: str) -> None:
    """``attribute_values`` rebuilt as ``table``, keyed (rid, ``key``, element) where ``key`` is the path's code or
    its text, filled from the old table joined to ``attribute_paths`` on ``joined``, in key order (the new B-trees
    are filled page after page), then put in the old one's place with its two partial value indexes."""
    op.create_table(
        table,
        _rid_column(),
        key,
        *_value_columns(),
        sa.PrimaryKeyConstraint("rid", key.name, "element"),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO {table} (rid, {key.name}, {VALUES}) SELECT a.rid, p.{key.name}, {FROM_A}"
        f" FROM attribute_values AS a JOIN attribute_paths AS p ON {joined} ORDER BY a.rid, p.{key.name}, a.element"
    )
    op.drop_table("attribute_values")
    op.rename_table(table, "attribute_values")
    _value_indexes(key.name)


def upgrade() -> None:
    _rewrite_resources(_packed_row)
    op.create_table(
        "attribute_paths",
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(160), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("path"),
    )
    # The most frequent paths first: they get the smallest codes (SQLite stores 1..127 in one byte either way).
    op.execute(
        "INSERT INTO attribute_paths (path) SELECT path FROM attribute_values GROUP BY path ORDER BY count(*) DESC"
    )
    _rebuild_values("attribute_values_0018", sa.Column("code", sa.Integer(), nullable=False), "p.path = a.path")


def downgrade() -> None:
    _rebuild_values("attribute_values_0017", sa.Column("path", sa.String(160), nullable=False), "p.code = a.code")
    op.drop_table("attribute_paths")
    _rewrite_resources(_text_row)
