"""A target removed while it still holds accounts: who it held, put on the trail at its removal, for the erasures
that come later (GDPR Art. 17(2), 19: a recipient the data was disclosed to is told of an erasure).

Removing a target deletes its links (``target_links`` cascades), and the links were the only record of whom it
held. An erasure after that created no step for it: the receipt listed every other recipient and closed, while the
application still held the person's account. The trail keeps, per subject held, one ``target.removed.held`` entry
(the subject pseudonymous, as every entry; the target's name and recipient in its details), and an erasure reads
them back by the subject's pseudonym to give that recipient a manual step. No table is added: the trail is the
record that survives the target, and it is what a subject access export already reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from app.audit.tables import AuditEvent
from app.audit.trail import Event, append_many
from app.core.actor import current_actor
from app.feed import links

if TYPE_CHECKING:  # the config module records removals with this one
    from app.targets.config import TargetConfig

HELD_KIND = "target.removed.held"
_A = AuditEvent.__table__


def record_held(conn: Connection, target: TargetConfig) -> int:
    """In the removal's transaction, before its links go: one entry per User the target holds; returns how many."""
    held = sorted(link.resource_id for link in links.of_target(conn, target.id) if link.resource_type == "User")
    details = {"target": target.name, "recipient": target.recipient_id}
    actor = current_actor.get()
    for start in range(0, len(held), 1000):  # one batched insert per thousand, not one tail read per subject
        append_many(conn, [Event(HELD_KIND, actor, subject=rid, details=details) for rid in held[start : start + 1000]])
    return len(held)


@dataclass(frozen=True)
class RemovedHolding:
    target: str  # the removed target's name
    recipient: str  # its recipient in the policy when it was removed


def holdings(conn: Connection, pseudonyms: set[str]) -> dict[str, list[RemovedHolding]]:
    """Pseudonym -> the removed targets that held that subject when they were removed (oldest first, each target
    name once), for the subjects of one erasure. One walk of the removals' entries through the kind's index, however
    many subjects: a query per subject read them all each time (a removal of 100,000 accounts, then a bulk erasure)."""
    found: dict[str, dict[str, RemovedHolding]] = {}
    rows = conn.execute(select(_A.c.subject, _A.c.details).where(_A.c.kind == HELD_KIND).order_by(_A.c.seq))
    for subject, text in rows:
        if subject in pseudonyms:
            details = json.loads(text)
            held = RemovedHolding(str(details["target"]), str(details["recipient"]))
            found.setdefault(subject, {}).setdefault(held.target, held)
    return {pseudonym: list(by_target.values()) for pseudonym, by_target in found.items()}
