"""Each reconcile's outcome is kept (``target_checks``): when it ran and how many differences of each kind it found,
counts only, so that a target is called "in sync" only after a check of the target itself (decision 0036).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target_checks",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("differing", sa.Integer(), nullable=False),
        sa.Column("beyond", sa.Integer(), nullable=False),
        sa.Column("repairable", sa.Integer(), nullable=False),
        sa.Column("repaired", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_target_checks_target", "target_checks", ["target_id", "seq"])


def downgrade() -> None:
    op.drop_table("target_checks")
