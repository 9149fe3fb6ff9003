"""The runtime assembled once (app/runtime.py): one writer for the server, jobs on one lifecycle, an ordered stop."""

from __future__ import annotations

import threading

import httpx

from app.runtime import Runtime
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.conftest import new_user


def _custos_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("custos-") and t.is_alive()}


def test_the_server_writes_through_the_runtimes_writer_and_everything_stops_in_order(vault: Vault) -> None:
    before = _custos_threads()
    _, token = TokenStore(vault).create("idp")
    runtime = Runtime(vault, host="127.0.0.1", port=0, public_host=None, tls=None)
    runtime.start()
    try:
        service = runtime.server.service
        assert service is not None
        assert service.writer is runtime.writer and service.janitor is runtime.janitor  # not a writer of its own
        assert runtime.jobs.dispatcher.policy is runtime.policy is runtime.server.policy
        running = _custos_threads() - before
        assert {"custos-scim-server", "custos-dispatcher", "custos-erasure", "custos-alerts"} <= running
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=runtime.server.base_url, headers=headers, timeout=30) as http:
            created = http.post("/Users", json=new_user("ada@example.org"))
            deleted = http.delete(f"/Users/{created.json()['id']}")
        assert (created.status_code, deleted.status_code) == (201, 204)
        assert runtime.writer.jobs >= 2  # both writes went through the one writer the runtime owns
    finally:
        runtime.close()
    assert not vault.is_open  # the key leaves memory last
    assert _custos_threads() - before == set()  # every thread the runtime started has ended


def test_a_server_restart_keeps_the_runtimes_writer(vault: Vault) -> None:
    runtime = Runtime(vault, host="127.0.0.1", port=0, public_host=None, tls=None)
    try:
        runtime.server.start()
        runtime.server.stop()  # the app's panel stops and restarts the endpoint (relocation)
        runtime.server.start()
        assert runtime.server.service is not None and runtime.server.service.writer is runtime.writer
    finally:
        runtime.close()
    assert not vault.is_open
