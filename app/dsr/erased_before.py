"""Whether the person a request was matched to was erased before it is answered: the erasure request (decision
0010) that shredded their keys, found by the pseudonym the request holds. The letter of a "none held" answer
(decision 0073) says so with that erasure's date and reference — the signed receipt's own id — and nothing else:
the register holds no name or identifier to say, and must not find one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from app.erasure.tables import ErasureRequest, ErasureSubject

_R = ErasureRequest.__table__
_S = ErasureSubject.__table__


@dataclass(frozen=True)
class Erased:
    reference: str  # er-…: the erasure request, and its signed receipt's reference
    state: str  # open | closed
    closed: datetime | None  # UTC


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def latest(conn: Connection, pseudonym: str | None) -> Erased | None:
    """The latest erasure of the person with this pseudonym, or None (never erased, or not matched)."""
    if not pseudonym:
        return None
    row = conn.execute(
        select(_R.c.id, _R.c.state, _R.c.closed)
        .join(_S, _S.c.request_id == _R.c.id)
        .where(_S.c.pseudonym == pseudonym)
        .order_by(_R.c.created.desc())
        .limit(1)
    ).first()
    return Erased(row.id, row.state, _utc(row.closed)) if row is not None else None


def of_reference(conn: Connection, reference: str) -> Erased | None:
    row = conn.execute(select(_R.c.id, _R.c.state, _R.c.closed).where(_R.c.id == reference)).first()
    return Erased(row.id, row.state, _utc(row.closed)) if row is not None else None
