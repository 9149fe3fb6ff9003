"""ORM tables of the mirror. Portable SQLAlchemy: nothing here is SQLite-specific.

Resources keep their SCIM document as JSON (the vault is encrypted as a whole; the text is stored deflated,
app/store/packed_json.py). Every searchable value is also written to ``attribute_values``, one row per leaf value
under its path's code, so that any SCIM filter becomes an indexed SQL query (see docs/decisions/0003-filter-to-sql.md
and 0033). Group membership is relational in ``group_members``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    ScalarSelect,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.store.epoch_time import EpochMicros
from app.store.packed_json import PackedJson


class Base(DeclarativeBase):
    # Every model here is mapped to one Table (no mapping to a join or a select), so say so: code writes
    # ``insert(Model.__table__)``, which SQLAlchemy types for a Table, not for the FromClause it declares.
    __table__: ClassVar[Table]  # narrows DeclarativeBase's FromClause


class VaultInfo(Base):
    """Non-secret facts about this vault (id, creation time), one key per row."""

    __tablename__ = "vault_info"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token for one SCIM client. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart in lists
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ScimResource(Base):
    __tablename__ = "scim_resources"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    user_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    user_name_ci: Mapped[str | None] = mapped_column(String(256), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    display_name_ci: Mapped[str | None] = mapped_column(String(256), nullable=True)
    active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # When the account last became inactive; retention periods for deactivated accounts run from here.
    deactivated_at: Mapped[datetime | None] = mapped_column(EpochMicros, nullable=True)
    # The JSON text, stored deflated with SCIM's names as a preset dictionary (migration 0018; store/packed_json.py).
    document: Mapped[str] = mapped_column(PackedJson)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Times as microseconds since 1970 UTC (migration 0018, store/epoch_time.py): 8 bytes where the text took 26.
    created: Mapped[datetime] = mapped_column(EpochMicros)
    modified: Mapped[datetime] = mapped_column(EpochMicros)
    # A small number for the search index to refer to the resource by (migration 0017): an index row repeating a
    # 36-character id cost more than the value it indexes. Given once, at insert, never reused while the row lives.
    rid: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        UniqueConstraint("resource_type", "user_name_ci", name="uq_resource_user_name_ci"),
        Index("ix_resource_rid", "rid", unique=True),
        # Pages in id order, COUNT per type; with the number, a resource's index rows are found from it alone.
        Index("ix_resource_type_id", "resource_type", "id", "rid"),
        # Sorted pages read these in order; ties (and the rows without a value) in order of the resource number,
        # 4 bytes where the id took 37 (migration 0017).
        Index("ix_resource_type_display", "resource_type", "display_name_ci", "rid"),
        # Every row (migration 0017): a list sorted by externalId reads the rows without one here too.
        Index("ix_resource_type_external", "resource_type", "external_id", "rid"),
        Index("ix_resource_type_modified", "resource_type", "modified", "rid"),
        Index("ix_resource_type_created", "resource_type", "created", "rid"),
        Index(
            "ix_resource_deactivated",
            "resource_type",
            "deactivated_at",
            sqlite_where=text("deactivated_at IS NOT NULL"),
        ),
    )


class AttributePath(Base):
    """The attribute paths the search index holds values of, each under a small number (migration 0018).

    An index row names its attribute by ``code`` instead of the path's text: ``emails.value`` took 13 bytes in each
    of a user's rows and again in its (path, value) index entry, the code takes one. Codes are given on first use
    (``INSERT OR IGNORE``, in the transaction that writes the first row of the path) and never change or go away, so
    a query compares with ``code = (SELECT code FROM attribute_paths WHERE path = ?)``, evaluated once.
    """

    __tablename__ = "attribute_paths"
    code: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(160), unique=True)


class AttributeValue(Base):
    """One leaf value of a resource, for filtering and sorting in SQL.

    ``code`` names the lower-cased attribute path (``emails.value``, ``name.givenname``,
    ``urn:…:enterprise:2.0:user:employeenumber``) by its number in ``attribute_paths``; ``element`` groups the
    sub-attributes of one element of a multi-valued attribute, so ``emails[type eq "work"].value`` can join on it.
    """

    __tablename__ = "attribute_values"
    # WITHOUT ROWID, keyed (rid, code, element) (migrations 0016–0018): a resource's rows are stored together in
    # the table itself, which is also the per-resource index, so each row is written to two B-trees, not three.
    # ``rid`` is the resource's small number (scim_resources.rid), not its 36-character id; ``code`` its path's.
    rid: Mapped[int] = mapped_column(ForeignKey("scim_resources.rid", ondelete="CASCADE"), primary_key=True)
    code: Mapped[int] = mapped_column(Integer, primary_key=True)
    element: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    # The value as sent, only for case-exact attributes (migration 0017): the others compare on value_ci alone.
    value_str: Mapped[str | None] = mapped_column(Text, nullable=True)
    value_ci: Mapped[str | None] = mapped_column(Text, nullable=True)
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_bool: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    __table_args__ = (
        # Partial (migration 0016): element markers, booleans and numbers hold no text, and only numbers a number.
        Index("ix_attr_path_ci", "code", "value_ci", "rid", sqlite_where=text("value_ci IS NOT NULL")),
        Index("ix_attr_path_num", "code", "value_num", "rid", sqlite_where=text("value_num IS NOT NULL")),
        {"sqlite_with_rowid": False},
    )


_PATHS = AttributePath.__table__
def with_paths(*columns: Any) -> Select[Any]:
    """``attribute_paths.path`` and ``columns`` of every index row: the rows with their path's text, for reading them
    (reports, tests), never for finding them (the indexes hold the code: compare with :func:`path_code`)."""
    return select(_PATHS.c.path, *columns).join(AttributeValue, AttributeValue.code == _PATHS.c.code)


def path_code(path: Any) -> ScalarSelect[int]:
    """The code of ``path`` (a text or a bound parameter) as SQL: an uncorrelated subquery SQLite evaluates once, so
    ``code = path_code(…)`` reads the (code, value) indexes as a literal code would. NULL for a path never indexed
    (which then matches no row)."""
    return select(_PATHS.c.code).where(_PATHS.c.path == path).scalar_subquery()


def path_codes(condition: ColumnElement[bool]) -> Select[tuple[int]]:
    """The codes of the paths matching ``condition`` over ``attribute_paths.path`` (a list, a prefix): for
    ``code IN (…)``."""
    return select(_PATHS.c.code).where(condition)


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[str] = mapped_column(ForeignKey("scim_resources.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("scim_resources.id", ondelete="CASCADE"), primary_key=True)
    member_type: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_group_members_member", "member_id", "group_id"),)
