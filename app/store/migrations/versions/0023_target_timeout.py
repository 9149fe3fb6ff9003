"""Each target has its own HTTP timeout (``timeout_seconds``), so a slow target on a bad link can be given longer and
a hung one can hold the dispatcher less: it was one module constant (15 s, connect 5 s) for every target. Existing
targets keep 15 s.

Revision ID: 0023
Revises: 0025 (landed before it; the ids are names, the chain is what orders them)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("targets", sa.Column("timeout_seconds", sa.Float(), nullable=False, server_default="15"))


def downgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.drop_column("timeout_seconds")
