"""Erasure requests, their subjects (by pseudonym), per-target steps and the exchanges kept as evidence.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("created", TZ, nullable=False),
        sa.Column("operator", sa.String(160), nullable=False),
        sa.Column("ground", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("closed", TZ, nullable=True),
        sa.Column("policy_stamp", sa.String(100), nullable=False),
        sa.Column("local_facts", sa.Text(), nullable=False),
    )
    op.create_table(
        "erasure_subjects",
        sa.Column("request_id", sa.String(24), sa.ForeignKey("erasure_requests.id"), primary_key=True),
        sa.Column("subject_no", sa.Integer(), primary_key=True),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("rows_deleted", sa.Integer(), nullable=False),
        sa.Column("key_shredded", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "erasure_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(24), sa.ForeignKey("erasure_requests.id"), nullable=False),
        sa.Column("subject_no", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("target_name", sa.String(64), nullable=False),
        sa.Column("erase_mode", sa.String(16), nullable=False),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=True),
        sa.Column("remote_id", sa.String(256), nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", TZ, nullable=False),
        sa.Column("lease_until", TZ, nullable=True),
        sa.Column("deleted_status", sa.Integer(), nullable=True),
        sa.Column("requested", TZ, nullable=False),
        sa.Column("first_attempt", TZ, nullable=True),
        sa.Column("last_attempt", TZ, nullable=True),
        sa.Column("confirmed", TZ, nullable=True),
        sa.Column("attested_by", sa.String(160), nullable=True),
        sa.Column("attested_at", TZ, nullable=True),
        sa.Column("attestation_note", sa.String(500), nullable=True),
    )
    op.create_index("ix_erasure_steps_due", "erasure_steps", ["state", "next_attempt"])
    op.create_index("ix_erasure_steps_request", "erasure_steps", ["request_id", "subject_no"])
    op.create_table(
        "erasure_exchanges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("step_id", sa.Integer(), sa.ForeignKey("erasure_steps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("note", sa.String(120), nullable=True),
    )
    op.create_index("ix_erasure_exchanges_step", "erasure_exchanges", ["step_id", "id"])


def downgrade() -> None:
    op.drop_table("erasure_exchanges")
    op.drop_table("erasure_steps")
    op.drop_table("erasure_subjects")
    op.drop_table("erasure_requests")
