"""Restriction of processing (Art. 18), as far as Custos can enforce it.

Custos mirrors the IdP, so the restriction itself is done there and recorded as a task. Custos adds a flag on
the request: while a request of a subject has ``restricted`` set, every target receives that User with
``active: false`` (app.targets.push reads :func:`is_restricted` before each push), so the applications stop
using the account while the data stay stored. Setting or lifting the flag queues a push to every target in the
same transaction. Exports: the only per-person export is the subject export, which goes to the subject (allowed
by Art. 18(2)'s own logic: it is the subject's request); no other export lists people (decision 0017).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, exists, select, update

from app.audit.pseudonyms import pseudonym_for
from app.audit.tables import SubjectKey
from app.dsr.tables import DsrRequest
from app.feed import outbox

if TYPE_CHECKING:
    from app.dsr.register import RequestView

_Q = DsrRequest.__table__
_K = SubjectKey.__table__
_ANY = select(exists().where(_Q.c.restricted.is_(True)))


def is_restricted(conn: Connection, resource_id: str) -> bool:
    """Whether processing of this User is restricted by a request (cheap when no request restricts anyone)."""
    if not conn.execute(_ANY).scalar():
        return False
    pseudonym = pseudonym_for(conn, resource_id)
    if pseudonym is None:
        return False
    query = select(exists().where(_Q.c.subject == pseudonym, _Q.c.restricted.is_(True)))
    return bool(conn.execute(query).scalar())


def set_flag(conn: Connection, view: RequestView, restricted: bool, now: datetime) -> bool:
    """Set or lift the flag; queue the User to every target so they receive the change. False: no subject."""
    conn.execute(update(_Q).where(_Q.c.id == view.id).values(restricted=restricted))
    if not view.subject:
        return False
    resource_id = conn.execute(select(_K.c.resource_id).where(_K.c.pseudonym == view.subject)).scalar()
    if resource_id is None:
        return False
    outbox.enqueue(conn, "User", str(resource_id), "upsert", now)
    return True
