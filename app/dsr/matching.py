"""Finding the identities a request may concern: a search of the mirror by id, userName, displayName or
externalId (case-insensitive, part of the text). Zero, one or several matches are shown to the operator; the
one chosen is recorded by pseudonym only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, or_, select

from app.store.models import ScimResource

_R = ScimResource.__table__
LIMIT = 25


@dataclass(frozen=True)
class Candidate:
    id: str
    user_name: str
    display_name: str
    active: bool


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(conn: Connection, text: str, limit: int = LIMIT) -> list[Candidate]:
    """Users whose id equals, or whose userName, displayName or externalId contains, ``text``."""
    needle = text.strip()
    if len(needle) < 2:
        return []
    pattern = _like(needle)
    rows = conn.execute(
        select(_R.c.id, _R.c.user_name, _R.c.display_name, _R.c.active)
        .where(
            _R.c.resource_type == "User",
            or_(
                _R.c.id == needle,
                _R.c.user_name_ci.like(pattern, escape="\\"),
                _R.c.display_name_ci.like(pattern, escape="\\"),
                _R.c.external_id.ilike(pattern, escape="\\"),
            ),
        )
        .order_by(_R.c.user_name_ci, _R.c.id)
        .limit(limit)
    )
    return [Candidate(r.id, r.user_name or "", r.display_name or "", r.active is not False) for r in rows]
