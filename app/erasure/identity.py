"""How a subject is named outside the mirror (its pseudonym), and the destruction of the key behind it.

TEMPORARY: stands in until app.audit.pseudonyms lands (per-subject keys, shred_subject).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection

from app.audit.trail import Event, append


def pseudonym(conn: Connection, resource_id: str) -> str:
    return hashlib.sha256(b"interim:" + resource_id.encode()).hexdigest()


def shred(conn: Connection, resource_id: str, actor: str, details: dict[str, Any]) -> bool:
    details = {**details, "pseudonym": pseudonym(conn, resource_id)}
    append(conn, Event("subject.shredded", actor, details=details))
    return False
