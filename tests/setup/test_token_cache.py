"""The token store's cache: a change made through the store bites at once, whatever another thread was reading."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.setup.tokens import TokenStore
from app.store.vault import Vault


class HeldReads:
    """The vault as the token store sees it; a read on another thread, once over, waits before it is used."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self.read_done = threading.Event()
        self.go_on = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._vault, name)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with self._vault.read_session() as session:
            yield session
        if threading.current_thread() is not threading.main_thread() and not self.read_done.is_set():
            self.read_done.set()
            self.go_on.wait(10)


def _verify_while(store: TokenStore, vault: HeldReads, secret: str, change: object) -> None:
    """A request verifies ``secret``: its read of the tokens is over, not yet kept, when ``change()`` runs."""
    request = threading.Thread(target=store.verify, args=(secret,), name="a request")
    request.start()
    try:
        assert vault.read_done.wait(10)
        change()  # type: ignore[operator]
    finally:
        vault.go_on.set()
        request.join(10)


def test_a_token_revoked_while_a_request_reads_the_tokens_is_refused_at_once(vault: Vault) -> None:
    """The read in flight saw the token still active and was kept as the cache after the revocation had emptied
    it: the revoked token was accepted for up to another second (the app and the server share this store)."""
    held = HeldReads(vault)
    store = TokenStore(held)  # type: ignore[arg-type]
    _, secret = store.create("idp")
    _verify_while(store, held, secret, lambda: store.revoke("idp"))
    assert store.verify(secret) is None


def test_a_token_created_while_a_request_reads_the_tokens_is_accepted_at_once(vault: Vault) -> None:
    held = HeldReads(vault)
    store = TokenStore(held)  # type: ignore[arg-type]
    _, first = store.create("first")
    made: list[str] = []
    _verify_while(store, held, first, lambda: made.append(store.create("second")[1]))
    assert store.verify(made[0]) is not None
