"""A data subject request's clock stands still while the controller waits for the identity information it asked
for (Art. 12(6)): ``paused_since`` is the day it was asked for, while awaited; ``paused_days`` the days the clock
stood still in earlier waits, which the due dates include.

Existing requests get no pause: a request whose information was asked for before this revision keeps the due date
the register stated then (its earlier record says nothing of when the information came).

Revision ID: 0025
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dsr_requests", sa.Column("paused_since", sa.Date(), nullable=True))
    op.add_column("dsr_requests", sa.Column("paused_days", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("dsr_requests") as batch:
        batch.drop_column("paused_days")
        batch.drop_column("paused_since")
