"""The erasure status line says what the local erasure did, in words that agree with its counts."""

from __future__ import annotations

from app.erasure.requests import request_erasure
from app.erasure.status import local_line, request_status
from app.store.vault import Vault
from tests.conftest import new_user
from tests.erasure.support import FakeClock, service_for


def test_the_local_line_agrees_with_its_counts(vault: Vault) -> None:
    """A user who arrived with a userName only is one row in the mirror: the line read "1 rows deleted"."""
    scim = service_for(vault)
    try:
        created = scim.create("User", new_user("one-row@example.test")).body
    finally:
        scim.close()
    assert created is not None
    request_id = request_erasure(vault, [created["id"]], "art17-1a", "dpo", now=FakeClock()())
    with vault.read_connection() as conn:
        status = request_status(conn, request_id)
    assert (status.local["rows_deleted"], status.local["keys_shredded"]) == (1, 1)
    assert local_line(status) == "1 row deleted, WAL truncated, vacuumed, 1 pseudonym key shredded"
