"""Erasure steps record when they closed (``closed_at``): a receipt dates each step by that moment, never by the
request's time or the time it is printed.

Existing steps: an erased one closed when it was confirmed (the same moment was written to both); any other
closed step's moment was never recorded and stays empty, which the receipt says as such.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("erasure_steps", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE erasure_steps SET closed_at = confirmed WHERE state = 'succeeded' AND confirmed IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("erasure_steps") as batch:
        batch.drop_column("closed_at")
