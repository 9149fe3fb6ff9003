"""Pages in id order: an index on (resource_type, id), so an unsorted page of 100 reads 100 index entries instead of
scanning and sorting every document of the type in a temporary B-tree, and COUNT reads the narrow index.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_resource_type_id", "scim_resources", ["resource_type", "id"])


def downgrade() -> None:
    op.drop_index("ix_resource_type_id", table_name="scim_resources")
