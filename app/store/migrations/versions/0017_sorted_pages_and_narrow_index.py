"""Sorted pages on an index, and a narrower search index.

* ``scim_resources.rid``: a small number per resource (unique), given at insert; existing rows get their rowid.
  ``ix_resource_type_id`` carries it, so the resources of a type without a row for an attribute (the first part
  of a list sorted by it) are counted and found from that index and the index rows alone.
* ``ix_resource_type_external`` covers every resource again, as (resource_type, external_id, rid): a list sorted
  by externalId reads it in order — the resources without one (``IS NULL``), then the others by value — instead
  of sorting every match (app/directory/ordering.py). The partial index of 0016 held only the resources with an
  externalId, so the ones without could be found only by reading every document.
* The sort indexes on displayName, meta.created and meta.lastModified end with the number instead of the id
  (ties in order of creation): 4 bytes where the id took 37, in every entry.
* ``attribute_values`` names its resource by that number instead of the 36-character id, in the table and in
  both value indexes: the id was repeated in every index row and cost more than most values it indexed.
* ``value_str`` (the value as sent) is kept only for case-exact attributes; every other comparison and every
  sort reads ``value_ci``. Paths this version's schema does not know keep it.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

VALUES = "value_ci, value_num, value_bool"


def _value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("value_str", sa.Text(), nullable=True),
        sa.Column("value_ci", sa.Text(), nullable=True),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
    ]


def _value_indexes(key: str) -> None:
    for name, column in (("ix_attr_path_ci", "value_ci"), ("ix_attr_path_num", "value_num")):
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "attribute_values", ["path", column, key], sqlite_where=condition)


def _case_insensitive_paths() -> list[str]:
    """Index paths of the attributes the schema says compare case-insensitively (their value_str is not read)."""
    from app.directory.schema import resource_schemas

    exact: dict[str, bool] = {}
    for schema in resource_schemas().values():
        for urn in schema.all_schemas():
            prefix = "" if urn == schema.core else urn.lower() + ":"
            for name, definition in schema.attributes[urn].items():
                path = prefix + name
                exact[path] = exact.get(path, False) or definition.case_exact
                for sub_name, sub in definition.sub.items():
                    sub_path = f"{path}.{sub_name}"
                    exact[sub_path] = exact.get(sub_path, False) or sub.case_exact
    return sorted(path for path, case_exact in exact.items() if not case_exact)


# The sort indexes of scim_resources: (name, sorted column); 0016 ended them with the id, 0017 with the number.
SORTED = (
    ("ix_resource_type_display", "display_name_ci"),
    ("ix_resource_type_modified", "modified"),
    ("ix_resource_type_created", "created"),
)


def upgrade() -> None:
    op.add_column("scim_resources", sa.Column("rid", sa.Integer(), nullable=True))
    op.execute("UPDATE scim_resources SET rid = rowid")
    op.create_index("ix_resource_rid", "scim_resources", ["rid"], unique=True)
    op.drop_index("ix_resource_type_id", table_name="scim_resources")
    op.create_index("ix_resource_type_id", "scim_resources", ["resource_type", "id", "rid"])
    op.drop_index("ix_resource_type_external", table_name="scim_resources")
    op.create_index("ix_resource_type_external", "scim_resources", ["resource_type", "external_id", "rid"])
    for name, column in SORTED:
        op.drop_index(name, table_name="scim_resources")
        op.create_index(name, "scim_resources", ["resource_type", column, "rid"])

    op.create_table(
        "attribute_values_0017",
        sa.Column("rid", sa.Integer(), sa.ForeignKey("scim_resources.rid", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.String(160), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        *_value_columns(),
        sa.PrimaryKeyConstraint("rid", "path", "element"),
        sqlite_with_rowid=False,
    )
    op.execute("CREATE TEMP TABLE case_insensitive_0017 (path TEXT PRIMARY KEY)")
    insensitive = sa.table("case_insensitive_0017", sa.column("path", sa.Text()))
    op.bulk_insert(insensitive, [{"path": path} for path in _case_insensitive_paths()])
    # In (rid, path, element) order: the new B-trees are filled page after page.
    op.execute(
        f"INSERT INTO attribute_values_0017 (rid, path, element, value_str, {VALUES}) "
        "SELECT r.rid, a.path, a.element, "
        "CASE WHEN a.path IN (SELECT path FROM case_insensitive_0017) THEN NULL ELSE a.value_str END, "
        f"a.value_ci, a.value_num, a.value_bool FROM attribute_values AS a JOIN scim_resources AS r "
        "ON r.id = a.resource_id ORDER BY r.rid, a.path, a.element"
    )
    op.execute("DROP TABLE case_insensitive_0017")
    op.drop_table("attribute_values")
    op.rename_table("attribute_values_0017", "attribute_values")
    _value_indexes("rid")


def downgrade() -> None:
    op.create_table(
        "attribute_values_0016",
        sa.Column(
            "resource_id", sa.String(36), sa.ForeignKey("scim_resources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("path", sa.String(160), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        *_value_columns(),
        sa.PrimaryKeyConstraint("resource_id", "path", "element"),
        sqlite_with_rowid=False,
    )
    # A case-insensitive value comes back lower-cased as value_str: 0016 compared those on value_ci alone too.
    op.execute(
        f"INSERT INTO attribute_values_0016 (resource_id, path, element, value_str, {VALUES}) "
        f"SELECT r.id, a.path, a.element, COALESCE(a.value_str, a.value_ci), a.value_ci, a.value_num, a.value_bool "
        "FROM attribute_values AS a JOIN scim_resources AS r ON r.rid = a.rid"
    )
    op.drop_table("attribute_values")
    op.rename_table("attribute_values_0016", "attribute_values")
    _value_indexes("resource_id")
    for name, column in SORTED:
        op.drop_index(name, table_name="scim_resources")
        op.create_index(name, "scim_resources", ["resource_type", column, "id"])
    op.drop_index("ix_resource_rid", table_name="scim_resources")
    op.drop_index("ix_resource_type_id", table_name="scim_resources")
    op.create_index("ix_resource_type_id", "scim_resources", ["resource_type", "id"])
    op.drop_index("ix_resource_type_external", table_name="scim_resources")
    op.execute("ALTER TABLE scim_resources DROP COLUMN rid")
    op.create_index(
        "ix_resource_type_external",
        "scim_resources",
        ["resource_type", "external_id"],
        sqlite_where=sa.text("external_id IS NOT NULL"),
    )
