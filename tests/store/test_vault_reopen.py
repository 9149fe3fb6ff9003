"""Closing and reopening a vault in place: the server answers 503 meanwhile and carries on afterwards."""

from __future__ import annotations

import pytest

from app.core.errors import WrongPassphrase
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.conftest import PASSPHRASE, LiveServer


def test_close_then_reopen_in_place(vault: Vault) -> None:
    _, token = TokenStore(vault).create("idp")
    tls = ensure_self_signed(vault.path.parent)
    server = ScimServer(vault, tls=tls, bus=EventBus())
    server.start()
    live = LiveServer(server, token, tls.cert_path, vault.path.parent)
    try:
        with live.client() as http:
            assert http.get("/Users").status_code == 200
            vault.close()
            closed = http.get("/Users")
            assert closed.status_code == 503 and closed.headers["Retry-After"] == "60"
            with pytest.raises(WrongPassphrase):
                vault.reopen("not the passphrase")
            assert not vault.is_open
            vault.reopen(PASSPHRASE)
            assert http.get("/Users").status_code == 200
            assert vault.verify_passphrase(PASSPHRASE) and not vault.verify_passphrase("wrong passphrase 1")
    finally:
        server.stop()
