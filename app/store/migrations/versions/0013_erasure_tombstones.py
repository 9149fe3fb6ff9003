"""Erasure that lasts and tells every recipient: tombstones (keyed HMACs of an erased subject's identifiers),
the source (identity provider) state per erased subject, and the recipient of each erasure step.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("erasure_steps") as batch:
        batch.add_column(sa.Column("recipient_id", sa.String(64), nullable=True))
    op.create_table(
        "erasure_tombstone_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("created", TZ, nullable=False),
    )
    op.create_table(
        "erasure_tombstones",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(24), nullable=False),
        sa.Column("subject_no", sa.Integer(), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_refused", TZ, nullable=True),
        sa.Column("released", TZ, nullable=True),
        sa.Column("released_by", sa.String(160), nullable=True),
        sa.Column("release_reason", sa.String(500), nullable=True),
    )
    op.create_index("ix_erasure_tombstones_digest", "erasure_tombstones", ["digest"])
    op.create_table(
        "erasure_sources",
        sa.Column("request_id", sa.String(24), sa.ForeignKey("erasure_requests.id"), primary_key=True),
        sa.Column("subject_no", sa.Integer(), primary_key=True),
        sa.Column("id_digest", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("how", sa.String(300), nullable=True),
        sa.Column("at", TZ, nullable=True),
        sa.Column("attested_by", sa.String(160), nullable=True),
    )
    op.create_index("ix_erasure_sources_digest", "erasure_sources", ["id_digest"])


def downgrade() -> None:
    op.drop_table("erasure_sources")
    op.drop_table("erasure_tombstones")
    op.drop_table("erasure_tombstone_key")
    with op.batch_alter_table("erasure_steps") as batch:
        batch.drop_column("recipient_id")
