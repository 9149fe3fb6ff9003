"""Erasure steps count every attempt made at their target (``attempts_total``), apart from ``attempts``, which an
operator's retry starts afresh (it drives the attempt limit): the receipt states the total.

Existing steps: the total is the larger of ``attempts`` and the number of DELETEs and PATCHes recorded for the
step (an attempt sends at most one of either, and every one it sends is recorded). That is exact for a step never
retried, and for one retried when its earlier attempts each sent a DELETE (or a PATCH); an earlier attempt that only
read back (a GET after an accepted DELETE) left no trace to count, so the total of such a step may still be low.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_BACKFILL = (
    "UPDATE erasure_steps SET attempts_total = max(attempts, (SELECT count(*) FROM erasure_exchanges x "
    "WHERE x.step_id = erasure_steps.id AND x.method IN ('DELETE', 'PATCH')))"
)


def upgrade() -> None:
    op.add_column("erasure_steps", sa.Column("attempts_total", sa.Integer(), nullable=False, server_default="0"))
    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("erasure_steps") as batch:
        batch.drop_column("attempts_total")
