"""Pages in index order and a more compact search index.

* ``ix_resource_type_id`` on (resource_type, id): an unsorted page of 100 reads 100 index entries instead of
  scanning and sorting every document of the type in a temporary B-tree, and COUNT reads a narrow index.
* ``attribute_values`` WITHOUT ROWID, keyed (resource_id, path, element): the rows of one resource are stored
  together in the table itself, which replaces both the rowid table and ``ix_attr_resource`` (one B-tree less to
  write per index row, and a third of the index's size).
* Partial indexes: the attribute index rows that hold no text (element markers, booleans, numbers) leave the
  (path, value_ci) index, the rows that hold no number leave the (path, value_num) index, and the resources with
  no externalId / no deactivation time leave theirs. Every query those indexes answer compares the column
  (``=``, ranges, LIKE), which implies IS NOT NULL, so SQLite still uses them; fewer entries are fewer pages to
  encrypt, write and secure-delete on every create, update and delete.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

# (name, table, columns, the condition of the partial index)
PARTIAL = (
    ("ix_attr_path_ci", "attribute_values", ["path", "value_ci", "resource_id"], "value_ci IS NOT NULL"),
    ("ix_attr_path_num", "attribute_values", ["path", "value_num", "resource_id"], "value_num IS NOT NULL"),
    ("ix_resource_type_external", "scim_resources", ["resource_type", "external_id"], "external_id IS NOT NULL"),
    ("ix_resource_deactivated", "scim_resources", ["resource_type", "deactivated_at"], "deactivated_at IS NOT NULL"),
)


VALUES = "resource_id, path, element, value_str, value_ci, value_num, value_bool"


def _value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("value_str", sa.Text(), nullable=True),
        sa.Column("value_ci", sa.Text(), nullable=True),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
    ]


def _resource_id() -> sa.Column[object]:
    return sa.Column(
        "resource_id", sa.String(36), sa.ForeignKey("scim_resources.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_index("ix_resource_type_id", "scim_resources", ["resource_type", "id"])
    op.create_table(
        "attribute_values_0016",
        _resource_id(),
        sa.Column("path", sa.String(160), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        *_value_columns(),
        sa.PrimaryKeyConstraint("resource_id", "path", "element"),
        sqlite_with_rowid=False,
    )
    # One row per (resource, path, element) is what indexing writes; were there ever two, the first one stays.
    op.execute(
        f"INSERT OR IGNORE INTO attribute_values_0016 ({VALUES}) SELECT {VALUES} FROM attribute_values ORDER BY id"
    )
    op.drop_table("attribute_values")
    op.rename_table("attribute_values_0016", "attribute_values")
    for name, table, columns, condition in PARTIAL:
        if table != "attribute_values":
            op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=sa.text(condition))


def downgrade() -> None:
    op.create_table(
        "attribute_values_0008",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _resource_id(),
        sa.Column("path", sa.String(160), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        *_value_columns(),
    )
    op.execute(f"INSERT INTO attribute_values_0008 ({VALUES}) SELECT {VALUES} FROM attribute_values")
    op.drop_table("attribute_values")
    op.rename_table("attribute_values_0008", "attribute_values")
    op.create_index("ix_attr_resource", "attribute_values", ["resource_id", "path", "element"])
    for name, table, columns, _condition in PARTIAL:
        if table != "attribute_values":
            op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    op.drop_index("ix_resource_type_id", table_name="scim_resources")
