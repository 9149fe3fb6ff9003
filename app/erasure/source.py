"""The source of an erased subject: does the identity provider still hold the person?

Custos erases its mirror and the targets; the IdP that sent the person is the controller's own system, and as
long as it holds them it will send them again (refused by the tombstones, app/erasure/tombstones.py). So every
erased subject gets a source line: ``held`` until the IdP is seen removing it (a DELETE on its old id) or
blocking it (``active`` false on its old id), or an operator attests that it was removed or blocked there.

The line does not keep a request open: Custos' own erasure (mirror and targets) is done when its steps are;
the receipt and ``erase status`` say separately whether the source still holds the person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from app.audit.trail import Event, append
from app.core.utc import utc_text
from app.erasure import tombstones
from app.erasure.tables import ErasureSource, ErasureTombstone

_SRC = ErasureSource.__table__
_T = ErasureTombstone.__table__
HELD, REMOVED, BLOCKED, ATTESTED = "held", "removed", "blocked", "attested"
LABELS = {
    HELD: "still held at the identity provider (not seen removed or blocked, not attested)",
    REMOVED: "removed at the identity provider",
    BLOCKED: "blocked at the identity provider (active false)",
    ATTESTED: "removed or blocked at the identity provider (attested)",
}
# A held line with a note: the IdP sent the person again after a removal was seen or attested (``returned``);
# "not seen removed or blocked, not attested" would deny what the note says happened before.
HELD_AGAIN = "held again at the identity provider (it sent the person again after the removal)"
STEP_TEXT = "remove or block at the identity provider"
ACTOR = "system:erasure"


def create(conn: Connection, request_id: str, subject_no: int, resource_id: str) -> None:
    digest = tombstones.id_digest(conn, resource_id)
    conn.execute(insert(_SRC).values(request_id=request_id, subject_no=subject_no, id_digest=digest, state=HELD))


def seen(conn: Connection, resource_id: str, how: str, now: datetime) -> int:
    """The IdP sent DELETE (``removed``) or active false (``blocked``) for an erased subject's old id."""
    state = REMOVED if how == "DELETE" else BLOCKED
    digest = tombstones.id_digest(conn, resource_id)
    rows = conn.execute(
        select(_SRC.c.request_id, _SRC.c.subject_no).where(_SRC.c.id_digest == digest, _SRC.c.state == HELD)
    ).all()
    for row in rows:
        conn.execute(
            update(_SRC)
            .where(_SRC.c.request_id == row.request_id, _SRC.c.subject_no == row.subject_no)
            .values(state=state, how=f"the identity provider sent {how} for the erased account", at=now)
            .values(id_digest=None)
        )
        details = {"request": row.request_id, "subject_no": row.subject_no, "state": state, "seen": how}
        append(conn, Event("erasure.source.seen", ACTOR, details=details, at=now))
    return len(rows)


def returned(conn: Connection, request_id: str, tombstone_ids: tuple[int, ...], now: datetime) -> int:
    """The identity provider sent the erased person again (a create, refused by the tombstones): it still holds
    them, whatever was seen (a DELETE) or attested before. The receipt kept saying "removed or blocked at the
    identity provider (attested)" beside "2 refused" re-creations made after that attestation. The line is held
    again, saying what it said before, so that the receipt, ``erase status`` and the answer letter say so and
    the operator can attest again once it is done."""
    subjects = select(_T.c.subject_no).where(_T.c.id.in_(tombstone_ids), _T.c.request_id == request_id)
    rows = conn.execute(
        select(_SRC).where(
            _SRC.c.request_id == request_id, _SRC.c.subject_no.in_(subjects), _SRC.c.state.in_((REMOVED, ATTESTED))
        )
    ).all()
    for row in rows:
        before = LABELS[row.state] + (f" by {row.attested_by}" if row.attested_by else "")
        when = f" at {utc_text(row.at, seconds=True)}" if row.at else ""
        how = f"sent again by the identity provider at {utc_text(now, seconds=True)} (refused); before: {before}{when}"
        if row.how:
            how += f": {row.how}"
        conn.execute(
            update(_SRC)
            .where(_SRC.c.request_id == row.request_id, _SRC.c.subject_no == row.subject_no)
            .values(state=HELD, how=how[:300], at=now, attested_by=None)
        )
    return len(rows)


def attest(conn: Connection, request_id: str, operator: str, note: str, now: datetime) -> int:
    """An operator confirms the person was removed or blocked at the identity provider (who, when, how)."""
    changed = conn.execute(
        update(_SRC)
        .where(_SRC.c.request_id == request_id, _SRC.c.state == HELD)
        .values(state=ATTESTED, how=note, at=now, attested_by=operator, id_digest=None)
    ).rowcount
    if changed:
        details = {"request": request_id, "subjects": changed}
        append(conn, Event("erasure.source.attested", f"operator:{operator}", details=details, at=now))
    return int(changed)


def of_request(conn: Connection, request_id: str) -> dict[int, dict[str, object]]:
    rows = conn.execute(select(_SRC).where(_SRC.c.request_id == request_id).order_by(_SRC.c.subject_no)).all()
    return {
        row.subject_no: {
            "state": row.state,
            "still_held": row.state == HELD,
            "step": STEP_TEXT,
            "outcome": HELD_AGAIN if row.state == HELD and row.how else LABELS.get(row.state, row.state),
            "how": row.how,
            "at": row.at,
            "attested_by": row.attested_by,
        }
        for row in rows
    }


def still_held(conn: Connection, request_ids: list[str]) -> set[str]:
    """Which of ``request_ids`` have a subject the identity provider still holds: a request can be closed (every
    Custos step done) while its person is still at the source, and a summary must not read as "all done"."""
    if not request_ids:
        return set()
    query = select(_SRC.c.request_id).where(_SRC.c.state == HELD, _SRC.c.request_id.in_(request_ids)).distinct()
    return {str(request_id) for request_id in conn.execute(query).scalars()}


def deactivates(resource_type: str, method: str, body: object) -> bool:
    """Whether a PUT or PATCH body sets ``active`` to false (how IdPs block a person)."""
    if resource_type != "User" or not isinstance(body, dict):
        return False
    if method == "PUT":
        return any(k.lower() == "active" and v in (False, "false", "False") for k, v in body.items())
    operations = next((v for k, v in body.items() if k.lower() == "operations"), None)
    for op in operations if isinstance(operations, list) else []:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in ("replace", "add"):
            continue
        value = op.get("value")
        path = str(op.get("path") or "").lower()
        if path == "active" and value in (False, "false", "False"):
            return True
        if not path and isinstance(value, dict) and any(
            k.lower() == "active" and v in (False, "false", "False") for k, v in value.items()
        ):
            return True
    return False
