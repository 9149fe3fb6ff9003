"""Pages in index order and a more compact search index.

* ``ix_resource_type_id`` on (resource_type, id): an unsorted page of 100 reads 100 index entries instead of
  scanning and sorting every document of the type in a temporary B-tree, and COUNT reads a narrow index.
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


def upgrade() -> None:
    op.create_index("ix_resource_type_id", "scim_resources", ["resource_type", "id"])
    for name, table, columns, condition in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=sa.text(condition))


def downgrade() -> None:
    for name, table, columns, _condition in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    op.drop_index("ix_resource_type_id", table_name="scim_resources")
