"""A full disk is a 507 with Retry-After, changes nothing, and the server recovers by itself when space is back.

The disk is filled the way SQLite sees it: ``PRAGMA max_page_count`` on every pooled connection makes any
growth of the vault fail with SQLITE_FULL ("database or disk is full"), the same error code SQLite returns on
ENOSPC. Raising the limit again is space coming back; the server is not restarted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.group_commit import is_disk_full
from app.store.vault import Vault
from tests.conftest import PASSPHRASE, LiveServer, new_user, patch_body
from tests.policy_support import hold_everything
from tests.scim.test_hostile_inputs import store_digest

PLENTY = 1_073_741_823  # SQLite's default maximum page count


class Disk:
    """How many pages the vault may have; applied to every connection as it leaves its pool."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.limit = PLENTY
        event.listen(vault.engine, "checkout", self._apply)
        event.listen(vault.writer.engine, "checkout", self._apply)  # every write runs on the one write connection

    def _apply(self, dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {self.limit}")

    def fill(self) -> None:
        with self.vault.engine.connect() as conn:
            self.limit = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
        self.vault.writer.release()  # the writer keeps its connection checked out: the next write takes it anew

    def free(self) -> None:
        self.limit = PLENTY
        self.vault.writer.release()


@pytest.fixture
def full_disk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Disk]]:
    folder = tmp_path_factory.mktemp("disk-full")
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    hold_everything(vault)
    _, token = TokenStore(vault).create("test-idp")
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, tls=tls, bus=EventBus())
    disk = Disk(vault)
    server.start()
    yield LiveServer(server, token, tls.cert_path, folder), disk
    server.stop()
    vault.close()


def test_full_disk_is_507_changes_nothing_and_recovers(full_disk_server: tuple[LiveServer, Disk]) -> None:
    live, disk = full_disk_server
    big = "x" * 60_000  # more pages than any free list holds: the vault must grow
    with live.client() as http:
        kept = http.post("/Users", json=new_user("kept@example.com", title="before"))
        assert kept.status_code == 201, kept.text
        kept_id = kept.json()["id"]
        disk.fill()
        before = store_digest(live.server.vault)

        refused = [
            http.post("/Users", json=new_user("blocked@example.com", title=big)),
            http.patch(f"/Users/{kept_id}", json=patch_body({"op": "replace", "path": "title", "value": big})),
            http.post(
                "/Bulk",
                json={
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": [
                        {"method": "POST", "path": "/Users", "bulkId": "b", "data": new_user("bulk@x.test", title=big)}
                    ],
                },
            ),
        ]
        for response in refused:
            assert response.status_code == 507, response.text
            assert int(response.headers["Retry-After"]) > 0
            assert "disk is full" in response.json()["detail"]
        assert http.get(f"/Users/{kept_id}").json()["title"] == "before"  # reads go on
        assert store_digest(live.server.vault) == before

        disk.free()  # space is back; no restart
        again = http.post("/Users", json=new_user("blocked@example.com", title=big))
        assert again.status_code == 201, again.text
        patched = http.patch(f"/Users/{kept_id}", json=patch_body({"op": "replace", "path": "title", "value": "after"}))
        assert patched.status_code == 200 and patched.json()["title"] == "after"
        assert http.get("/Users", params={"filter": 'userName eq "blocked@example.com"'}).json()["totalResults"] == 1


def test_disk_full_is_recognised_from_sqlite_and_from_the_os() -> None:
    import errno
    import sqlite3

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
