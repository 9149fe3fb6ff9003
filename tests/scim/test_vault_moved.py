"""The vault file moved away (or deleted, or replaced) under a running server.

Before (seen with `custos serve`): every request got 500 with a traceback in the log; a pool opening a connection
afterwards created an empty `custos.vault` (mode 0644) at the vault's path, which every command then called damaged
("restore your latest backup"); and writes on connections opened before went on into the old file, which after a
delete is an unlinked file lost when the process ends, while the IdP was answered 201. Now: 503 with Retry-After,
a critical log line naming what to do, nothing created at the path, nothing written to the old file; with the file
put back, the server writes again without a restart.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.audit.vault_lifecycle import create_vault
from app.core.events import AlertRaised, EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from tests.conftest import PASSPHRASE, LiveServer, new_user, patch_body
from tests.policy_support import hold_everything


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LiveServer, list[AlertRaised]]]:
    vault = create_vault(tmp_path, PASSPHRASE, PASSPHRASE)
    hold_everything(vault)
    _, token = TokenStore(vault).create("test-idp")
    tls = ensure_self_signed(tmp_path)
    bus = EventBus()
    alerts: list[AlertRaised] = []
    bus.subscribe(lambda event: alerts.append(event) if isinstance(event, AlertRaised) else None)
    server = ScimServer(vault, tls=tls, bus=bus)
    server.start()
    yield LiveServer(server, token, tls.cert_path, tmp_path), alerts
    server.stop()
    vault.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_vault_moved_away_is_503_creates_nothing_and_writes_nothing(
    served: tuple[LiveServer, list[AlertRaised]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live, alerts = served
    path = live.server.vault.path
    moved = tmp_path.parent / f"{tmp_path.name}-moved.vault"
    with live.client() as http:
        kept = http.post("/Users", json=new_user("kept@example.com"))
        assert kept.status_code == 201, kept.text
        live.server.vault.checkpoint()  # everything in the file itself: what is moved is the whole vault
        os.replace(path, moved)
        before = _digest(moved)

        change = patch_body({"op": "replace", "path": "title", "value": "x"})
        refused = [
            http.post("/Users", json=new_user("lost@example.com")),
            http.patch(f"/Users/{kept.json()['id']}", json=change),
        ]

        for response in refused:
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) > 0
        assert not path.exists()  # before: an empty custos.vault, mode 0644, that commands called damaged
        assert _digest(moved) == before  # and nothing went on into the file moved away
        assert "was moved, replaced or deleted while in use" in caplog.text and "Traceback" not in caplog.text
        assert [alert.rule for alert in alerts] == ["vault-unavailable"]

        os.replace(moved, path)  # put back: the same file, so writes go on without a restart
        again = http.post("/Users", json=new_user("after@example.com"))
        assert again.status_code == 201, again.text
        found = http.get("/Users", params={"filter": 'userName eq "lost@example.com"'}).json()
        assert found["totalResults"] == 0
