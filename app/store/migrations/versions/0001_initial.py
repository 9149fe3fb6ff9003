"""Initial vault schema: tokens, resources, attribute index, group membership.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vault_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("expires", TZ, nullable=True),
        sa.Column("last_used", TZ, nullable=True),
        sa.Column("revoked", TZ, nullable=True),
    )
    op.create_table(
        "scim_resources",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(256), nullable=True),
        sa.Column("user_name", sa.String(256), nullable=True),
        sa.Column("user_name_ci", sa.String(256), nullable=True),
        sa.Column("display_name", sa.String(256), nullable=True),
        sa.Column("display_name_ci", sa.String(256), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("modified", TZ, nullable=False),
        sa.UniqueConstraint("resource_type", "user_name_ci", name="uq_resource_user_name_ci"),
    )
    op.create_index("ix_resource_type_display", "scim_resources", ["resource_type", "display_name_ci", "id"])
    op.create_index("ix_resource_type_external", "scim_resources", ["resource_type", "external_id"])
    op.create_index("ix_resource_type_modified", "scim_resources", ["resource_type", "modified", "id"])
    op.create_index("ix_resource_type_created", "scim_resources", ["resource_type", "created", "id"])
    op.create_table(
        "attribute_values",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "resource_id",
            sa.String(36),
            sa.ForeignKey("scim_resources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("path", sa.String(160), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        sa.Column("value_str", sa.Text(), nullable=True),
        sa.Column("value_ci", sa.Text(), nullable=True),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_attr_path_ci", "attribute_values", ["path", "value_ci", "resource_id"])
    op.create_index("ix_attr_path_num", "attribute_values", ["path", "value_num", "resource_id"])
    op.create_index("ix_attr_resource", "attribute_values", ["resource_id", "path", "element"])
    op.create_table(
        "group_members",
        sa.Column(
            "group_id",
            sa.String(36),
            sa.ForeignKey("scim_resources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "member_id",
            sa.String(36),
            sa.ForeignKey("scim_resources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_type", sa.String(16), nullable=False),
    )
    op.create_index("ix_group_members_member", "group_members", ["member_id", "group_id"])


def downgrade() -> None:
    for table in ("group_members", "attribute_values", "scim_resources", "api_tokens", "vault_info"):
        op.drop_table(table)
