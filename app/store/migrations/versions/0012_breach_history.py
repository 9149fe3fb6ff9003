"""Breach register: an append-only history of every time (the clock cannot be reset) and what authority forms ask.

Existing values become the first entry of their history, marked as recorded before the history was kept.

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
_TEXTS = ("cause", "discovery", "authority", "lead_authority", "other_authorities", "processor", "subject_summary",
          "subject_advice")  # fmt: skip
_TIMES = ("occurred_from", "occurred_to", "detected_at", "investigation_at", "aware_at", "contained_at",
          "subjects_informed_at")  # fmt: skip
_BEFORE = "held before the history of times was kept (migration 0012); any earlier value was not kept"


def upgrade() -> None:
    for name in ("subject_categories", "breach_types"):
        op.add_column("incidents", sa.Column(name, sa.Text(), nullable=False, server_default="[]"))
    for name in _TEXTS:
        op.add_column("incidents", sa.Column(name, sa.Text(), nullable=False, server_default=""))
    op.add_column("incidents", sa.Column("special_categories", sa.String(8), nullable=True))
    op.add_column("incidents", sa.Column("cross_border", sa.Boolean(), nullable=True))
    op.add_column("incidents", sa.Column("processor_notified_at", TZ, nullable=True))
    times = op.create_table(
        "incident_times",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column(
            "notification_id",
            sa.Integer(),
            sa.ForeignKey("incident_notifications.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_incident_times_incident_id", "incident_times", ["incident_id"])
    _backfill(times)


def _backfill(times: sa.Table) -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    columns = ", ".join(("id", "aware_by", "aware_reason", *_TIMES))
    for incident in conn.execute(sa.text(f"SELECT {columns} FROM incidents ORDER BY id")).mappings():
        for name in _TIMES:
            if incident[name] is not None:
                by = incident["aware_by"] if name == "aware_at" and incident["aware_by"] else "migration 0012"
                reason = f"{incident['aware_reason'] or ''} ({_BEFORE})" if name == "aware_at" else _BEFORE
                rows.append({"incident_id": incident["id"], "name": name, "notification_id": None,
                             "at": incident[name], "recorded_at": now, "recorded_by": by, "reason": reason})
    for note in conn.execute(sa.text("SELECT id, incident_id, at FROM incident_notifications ORDER BY id")).mappings():
        rows.append({"incident_id": note["incident_id"], "name": "notified", "notification_id": note["id"],
                     "at": note["at"], "recorded_at": now, "recorded_by": "migration 0012", "reason": _BEFORE})
    if rows:
        # The stored strings are read back as they are: SQLite keeps DateTime as text, the model parses it.
        op.bulk_insert(times, [{**row, "at": _parsed(row["at"])} for row in rows])


def _parsed(value: object) -> object:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def downgrade() -> None:
    op.drop_index("ix_incident_times_incident_id", "incident_times")
    op.drop_table("incident_times")
    for name in ("processor_notified_at", "cross_border", "special_categories", *_TEXTS, "breach_types",
                 "subject_categories"):  # fmt: skip
        op.drop_column("incidents", name)
