"""A vault that refuses to record push outcomes (a full disk, a read-only data folder) while a target answers.

Before: every push whose outcome could not be recorded was due again at once, so the dispatcher sent the same
requests to the target about a dozen times a second for as long as the disk stayed full (seen with `custos serve`
on an 8 MiB tmpfs: 416 requests to the target in 7 seconds for 4 users). Now pushing pauses, doubling from one
second up to a minute, and resumes by itself once the vault takes writes again, leaving one account at the target.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select

from app.feed.tables import OutboxItem
from app.store.vault import Vault
from app.targets.config import update_target
from tests.erasure.proxy import CountingProxy
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import provisioning


class ReadOnlyWrites:
    """SQLite's own refusal of every write on the one write connection ("attempt to write a readonly database"),
    as a data folder made read-only or a full disk makes it: the write fails inside SQLite, nothing is mocked."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.refusing = False
        event.listen(vault.writer.engine, "checkout", self._apply)

    def _apply(self, dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute(f"PRAGMA query_only = {int(self.refusing)}")

    def set(self, refusing: bool) -> None:
        self.refusing = refusing
        self.vault.writer.release()  # the writer keeps its connection checked out: the next write takes it anew


def _requests(proxy: CountingProxy) -> int:
    return sum(proxy.received.values())


def _states(vault: Vault) -> list[str]:
    with vault.read_connection() as conn:
        return list(conn.execute(select(OutboxItem.state)).scalars())


def test_pushes_pause_while_their_outcomes_cannot_be_recorded(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    proxy = CountingProxy(app1.base_url.removesuffix("/v2")).start()
    p = provisioning(vault, [app1])
    try:
        with vault.write_transaction() as conn:  # the dispatcher reaches the target through the counting proxy
            update_target(conn, "app1", base_url=f"{proxy.base_url}/v2")
        writes = ReadOnlyWrites(vault)
        proxy.hold_methods = {"POST"}  # the account is created there; its answer waits until the vault refuses
        p.service.create("User", person("unrecorded-1@example.test"))
        wait_until(lambda: proxy.received["POST"] == 1)
        writes.set(True)
        proxy.release()

        wait_until(lambda: _requests(proxy) >= 2)  # the first push again (it searches first: it may exist)
        start = _requests(proxy)
        time.sleep(3.0)
        # paused 1 s, then 2 s: at most two more pushes of a few requests each, not dozens
        assert _requests(proxy) - start <= 8, proxy.received
        assert _states(vault) == ["pending"]

        writes.set(False)  # space again: the push is made once more and recorded, and the target holds one account
        wait_until(lambda: _states(vault) == ["done"], timeout=90)
        assert [u["userName"] for u in app1.users()] == ["unrecorded-1@example.test"]
    finally:
        p.close()
        proxy.stop()
