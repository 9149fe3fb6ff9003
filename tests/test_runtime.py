"""The runtime assembled once (app/runtime.py): one writer for the server, jobs on one lifecycle, an ordered stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from app.runtime import Runtime
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.conftest import new_user
from tests.targets.conftest import ScimTarget


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
        assert {"custos-scim-server", "custos-dispatcher", "custos-erasure", "custos-alerts",
                "custos-token-expiry", "custos-certificate-expiry"} <= running  # fmt: skip
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


@pytest.fixture
def scim_target() -> Iterator[ScimTarget]:
    target = ScimTarget("app1")
    target.start()
    yield target
    target.stop()


def test_every_write_of_a_serve_run_is_made_on_the_one_writer_connection(vault: Vault, scim_target: ScimTarget) -> None:
    """SCIM writes, the request recorder's entries, a token, a target's push outcome: one connection made them all,
    and no read connection changed a row (SQLite's per-connection total_changes)."""
    from sqlalchemy import event, func, select

    from app.feed.tables import OutboxItem
    from app.targets.config import TargetConfig, add_target
    from app.targets.policy_change import apply_policy
    from tests.targets.support import policy_with_recipients

    readers: dict[int, object] = {}
    writers: dict[int, object] = {}
    event.listen(vault.engine, "checkout", lambda dbapi, *_: readers.setdefault(id(dbapi), dbapi))
    event.listen(vault.writer.engine, "checkout", lambda dbapi, *_: writers.setdefault(id(dbapi), dbapi))
    target = scim_target  # a real scim2-server process
    apply_policy(vault, policy_with_recipients({target.name}), "dpo")
    config = TargetConfig(id=0, name=target.name, base_url=target.base_url, recipient_id=target.name,
                          auth_kind="bearer", secret=target.token)  # fmt: skip
    with vault.write_transaction() as conn:
        add_target(conn, config)
    runtime = Runtime(vault, host="127.0.0.1", port=0, public_host=None, tls=None)
    runtime.start()
    try:
        _, token = runtime.tokens.create("idp")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=runtime.server.base_url, headers=headers, timeout=30) as http:
            ids = [http.post("/Users", json=new_user(f"user{n}@example.org")).json()["id"] for n in range(5)]
            patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "displayName", "value": "Changed"}]}  # fmt: skip
            assert http.patch(f"/Users/{ids[0]}", json=patch).status_code == 200
            assert http.get(f"/Users/{ids[1]}").status_code == 200
            assert http.delete(f"/Users/{ids[2]}").status_code == 204
        pending = select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "pending")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the dispatcher pushes and records each outcome
            with vault.read_connection() as conn:
                if conn.execute(pending).scalar() == 0:
                    break
            time.sleep(0.05)
        runtime.stop()  # the recorder writes the last request entries
        with vault.read_connection() as conn:
            done = conn.execute(select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "done")).scalar()
        assert done and done >= 7  # 5 creates, 1 patch, 1 delete pushed, their outcomes written
        assert len(writers) == 1  # one write connection for the whole run
        (writer,) = writers.values()
        assert writer.total_changes > 0  # type: ignore[attr-defined]
        assert readers and all(reader.total_changes == 0 for reader in readers.values())  # type: ignore[attr-defined]
    finally:
        runtime.close()


def test_a_cli_write_while_serve_writes_keeps_its_own_connection_and_both_succeed(vault: Vault) -> None:
    """A CLI command is another process with its own writer; SQLite's file lock orders it with serve's writer."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import PASSPHRASE

    _, token = TokenStore(vault).create("idp")
    runtime = Runtime(vault, host="127.0.0.1", port=0, public_host=None, tls=None)
    runtime.start()
    statuses: list[int] = []
    stop = threading.Event()

    def provision() -> None:
        with httpx.Client(base_url=runtime.server.base_url, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as http:  # fmt: skip
            n = 0
            while not stop.is_set() or n < 20:
                statuses.append(http.post("/Users", json=new_user(f"busy{n}@example.org")).status_code)
                n += 1

    writer = threading.Thread(target=provision)
    writer.start()
    try:
        env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
        done = subprocess.run(
            [sys.executable, "main.py", "token", "create", "--name", "cli-made", "--data-dir", str(vault.path.parent)],
            cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        stop.set()
        writer.join(60)
        assert done.returncode == 0, done.stderr[-500:]
        secret = done.stdout.splitlines()[1].strip()
        assert statuses and set(statuses) == {201}  # no write of serve failed while the CLI wrote
        headers = {"Authorization": f"Bearer {secret}"}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # serve sees the CLI's token (issue 11 §2: within a second)
            if httpx.get(f"{runtime.server.base_url}/ServiceProviderConfig", headers=headers).status_code == 200:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the token made by the CLI was not accepted")
    finally:
        stop.set()
        runtime.close()


def test_the_passphrase_changes_while_the_server_and_jobs_run_in_this_process(vault: Vault) -> None:
    """The app changes the passphrase with its endpoint and jobs running: their connections are this process's and
    must not count as "another program has the vault open" (decision 0062), and they carry on under the new key."""
    from app.services.vault import change_passphrase
    from tests.conftest import PASSPHRASE

    _, token = TokenStore(vault).create("idp")
    runtime = Runtime(vault, host="127.0.0.1", port=0, public_host=None, tls=None)
    runtime.start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=runtime.server.base_url, headers=headers, timeout=30) as http:
            assert http.post("/Users", json=new_user("ada@example.org")).status_code == 201
            time.sleep(2.5)  # the alert watcher and the other jobs have read the vault on their threads
            change_passphrase(vault, PASSPHRASE, "a brand new passphrase", "a brand new passphrase")
            assert http.post("/Users", json=new_user("grace@example.org")).status_code == 201
            assert http.get("/Users").json()["totalResults"] == 2
    finally:
        runtime.close()
    reopened = Vault.unlock(vault.path.parent, "a brand new passphrase")
    assert reopened.is_open
    reopened.close()
