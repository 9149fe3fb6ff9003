"""Breach register: incidents and their notifications.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("alert_seq", sa.Integer(), nullable=True),
        sa.Column("created", TZ, nullable=False),
        *(
            sa.Column(name, TZ, nullable=True)
            for name in ("occurred_from", "occurred_to", "detected_at", "investigation_at", "aware_at")
        ),
        sa.Column("aware_by", sa.String(120), nullable=True),
        sa.Column("aware_reason", sa.Text(), nullable=True),
        sa.Column("contained_at", TZ, nullable=True),
        sa.Column("risk", sa.String(16), nullable=True),
        sa.Column("risk_reason", sa.Text(), nullable=True),
        sa.Column("risk_at", TZ, nullable=True),
        sa.Column("nature", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("approx_subjects", sa.Integer(), nullable=True),
        sa.Column("approx_records", sa.Integer(), nullable=True),
        sa.Column("dpo_contact", sa.Text(), nullable=False),
        sa.Column("consequences", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("delay_reason", sa.Text(), nullable=True),
        sa.Column("not_notified_rationale", sa.Text(), nullable=True),
        sa.Column("subjects_informed_at", TZ, nullable=True),
        sa.Column("art34_exemption", sa.String(4), nullable=True),
        sa.Column("art34_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
    )
    op.create_table(
        "incident_notifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("incident_notifications")
    op.drop_table("incidents")
