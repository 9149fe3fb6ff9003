"""Downstream targets, the outbox, and the links between subjects and their accounts at targets.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("base_url", sa.String(512), nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("auth_kind", sa.String(16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("oauth_token_url", sa.String(512), nullable=True),
        sa.Column("oauth_client_id", sa.String(256), nullable=True),
        sa.Column("oauth_scope", sa.String(256), nullable=True),
        sa.Column("ca_file", sa.String(512), nullable=True),
        sa.Column("pinned_sha256", sa.String(95), nullable=True),
        sa.Column("renames", sa.Text(), nullable=False),
        sa.Column("erase_mode", sa.String(16), nullable=False),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created", TZ, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", TZ, nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("finished", TZ, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt", "seq"])
    op.create_index("ix_outbox_subject", "outbox", ["target_id", "resource_id", "state", "seq"])
    op.create_table(
        "target_links",
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("resource_id", sa.String(36), primary_key=True),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(256), nullable=False),
        sa.Column("synced_version", sa.Integer(), nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
    )
    op.create_index("ix_target_links_resource", "target_links", ["resource_id"])


def downgrade() -> None:
    op.drop_table("target_links")
    op.drop_table("outbox")
    op.drop_table("targets")
