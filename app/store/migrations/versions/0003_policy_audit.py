"""Policy versions, the hash-chained audit trail, and when each account was deactivated.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("applied_at", TZ, nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_kind_seq", "audit_events", ["kind", "seq"])
    with op.batch_alter_table("scim_resources") as batch:
        batch.add_column(sa.Column("deactivated_at", TZ, nullable=True))
    op.create_index("ix_resource_deactivated", "scim_resources", ["resource_type", "deactivated_at"])
    # Accounts already inactive start their retention clock at the upgrade, not at some unknown past moment.
    op.execute("UPDATE scim_resources SET deactivated_at = CURRENT_TIMESTAMP WHERE active = 0")


def downgrade() -> None:
    op.drop_index("ix_resource_deactivated", "scim_resources")
    with op.batch_alter_table("scim_resources") as batch:
        batch.drop_column("deactivated_at")
    op.drop_index("ix_audit_kind_seq", "audit_events")
    op.drop_table("audit_events")
    op.drop_table("policy_versions")
