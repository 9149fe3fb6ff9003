"""Sorted pages on an index, and a narrower search index.

* ``ix_resource_type_external`` covers every resource again, as (resource_type, external_id, id): a list sorted
  by externalId reads it in order — the resources without one (``IS NULL``, in id order), then the others in
  (externalId, id) order — instead of sorting every match (app/scim/ordering.py). The partial index of 0016 held
  only the resources with an externalId, so the ones without could be found only by reading every document.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_resource_type_external", table_name="scim_resources")
    op.create_index("ix_resource_type_external", "scim_resources", ["resource_type", "external_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_resource_type_external", table_name="scim_resources")
    op.create_index(
        "ix_resource_type_external",
        "scim_resources",
        ["resource_type", "external_id"],
        sqlite_where=sa.text("external_id IS NOT NULL"),
    )
