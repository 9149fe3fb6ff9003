"""Every ``$ref`` already indexed gets the row that holds the id it ends in (``<path>.$ref#id``), so that the
resources naming a subject are found by an index search on that id (app/erasure/references.py) rather than by
reading every manager's URI; new and changed documents get the row when they are indexed (app/directory/indexing.py).

The id is taken here as the indexer takes it (the URI's last path segment); the rule is repeated rather than imported,
so this revision keeps doing what it did when the application code changes.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SUFFIX = "#id"


def _tail(uri: str) -> str | None:
    stripped = uri.rstrip("/")
    if "/" not in stripped:
        return None
    return stripped.rsplit("/", 1)[1] or None


def upgrade() -> None:
    conn = op.get_bind()
    ref_paths = conn.execute(
        sa.text("SELECT code, path FROM attribute_paths WHERE substr(path, -5) = '.$ref'")
    ).fetchall()
    for code, path in ref_paths:
        conn.execute(sa.text("INSERT OR IGNORE INTO attribute_paths (path) VALUES (:path)"), {"path": path + SUFFIX})
        new_code = conn.execute(
            sa.text("SELECT code FROM attribute_paths WHERE path = :path"), {"path": path + SUFFIX}
        ).scalar_one()
        rows = conn.execute(
            sa.text(
                "SELECT rid, element, value_str FROM attribute_values WHERE code = :code AND value_str IS NOT NULL"
            ),
            {"code": code},
        ).fetchall()
        found = [(rid, element, _tail(uri)) for rid, element, uri in rows]
        values = [
            {"rid": rid, "code": new_code, "element": element, "exact": tail, "folded": tail.lower()}
            for rid, element, tail in found
            if tail is not None
        ]
        if values:
            conn.execute(
                sa.text(
                    "INSERT OR IGNORE INTO attribute_values (rid, code, element, value_str, value_ci) "
                    "VALUES (:rid, :code, :element, :exact, :folded)"
                ),
                values,
            )


def downgrade() -> None:
    conn = op.get_bind()
    codes = conn.execute(sa.text("SELECT code FROM attribute_paths WHERE substr(path, -8) = '.$ref#id'")).scalars()
    for code in list(codes):
        conn.execute(sa.text("DELETE FROM attribute_values WHERE code = :code"), {"code": code})
    # The paths keep their codes: codes are never reused or taken back (app/store/models.py AttributePath).
