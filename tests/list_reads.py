"""Real list reads of many people: Users put in the live server's mirror, then read by one GET through the server.

Decision 0049 has each list read's trail entry name the people it returned (``read_subjects``); a page holds up to
1,000 (MAX_PAGE_SIZE), ~67 KB of pseudonyms. What consumes the trail (the SIEM records, the timeline export, the
tail) is tested on such an entry as the server writes it, not on one made up.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.audit.trail import READ_SUBJECTS, StoredEvent, of_kind
from app.directory import repository as repo
from tests.conftest import USER_SCHEMA, LiveServer


def add_users(live: LiveServer, prefix: str, count: int) -> None:
    """``count`` Users named ``prefix<n>`` in the mirror, in one transaction (a thousand POSTs take too long)."""
    now = datetime.now(UTC)
    with live.server.vault.write_transaction() as conn:
        for n in range(count):
            document = {"schemas": [USER_SCHEMA], "userName": f"{prefix}{n}"}
            repo.insert_resource(conn, "User", str(uuid.uuid4()), document, now)


def list_read(live: LiveServer, prefix: str, count: int) -> StoredEvent:
    """The trail entry of one ``GET /Users?filter=userName sw prefix&count=count`` that returned ``count`` people."""
    with live.client() as http:
        page = http.get("/Users", params={"filter": f'userName sw "{prefix}"', "count": count}).json()
    assert len(page["Resources"]) == count, page.get("detail")
    recorder = live.server.recorder
    assert recorder is not None
    recorder.flush()
    with live.server.vault.read_connection() as conn:
        (entry,) = [e for e in of_kind(conn, "scim.request", limit=1)]
    assert len(entry.details[READ_SUBJECTS]) == count
    return entry
