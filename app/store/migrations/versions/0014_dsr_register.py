"""The register of data subject requests: requests (skeleton plain, personal detail sealed), the step per right,
attachments by hash, and the sealing keys of requests without a subject key.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dsr_requests",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("rights", sa.Text(), nullable=False),
        sa.Column("received", TZ, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("country", sa.String(8), nullable=False),
        sa.Column("subdivision", sa.String(16), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("extended_months", sa.Integer(), nullable=True),
        sa.Column("extended_due", sa.Date(), nullable=True),
        sa.Column("extension_told", sa.Date(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("requester", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("verification_at", TZ, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("closed", TZ, nullable=True),
        sa.Column("operator", sa.String(160), nullable=False),
        sa.Column("key_ref", sa.String(8), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("alerts", sa.Text(), nullable=False),
    )
    op.create_index("ix_dsr_requests_state_due", "dsr_requests", ["state", "due"])
    op.create_index("ix_dsr_requests_subject", "dsr_requests", ["subject"])
    op.create_table(
        "dsr_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(24), sa.ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("right", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ground", sa.String(16), nullable=True),
        sa.Column("link_kind", sa.String(16), nullable=True),
        sa.Column("link_ref", sa.String(64), nullable=True),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("done_by", sa.String(160), nullable=True),
    )
    op.create_index("ix_dsr_steps_request", "dsr_steps", ["request_id"])
    op.create_table(
        "dsr_attachments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(24), sa.ForeignKey("dsr_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_dsr_attachments_request", "dsr_attachments", ["request_id"])
    op.create_table(
        "dsr_keys",
        sa.Column("request_id", sa.String(24), sa.ForeignKey("dsr_requests.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dsr_keys")
    op.drop_index("ix_dsr_attachments_request", "dsr_attachments")
    op.drop_table("dsr_attachments")
    op.drop_index("ix_dsr_steps_request", "dsr_steps")
    op.drop_table("dsr_steps")
    op.drop_index("ix_dsr_requests_subject", "dsr_requests")
    op.drop_index("ix_dsr_requests_state_due", "dsr_requests")
    op.drop_table("dsr_requests")
