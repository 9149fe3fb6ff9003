"""What a target's "Last error" says when the connection fails: words an operator can act on, not a Python class
name ("GET failed: ConnectError" on the Targets page and in `target list`)."""

from __future__ import annotations

import asyncio

import pytest

from app.targets.client import Retryable, TargetClient
from app.targets.config import TargetConfig
from tests.ports import PortReservation


def test_a_target_that_does_not_listen_is_said_in_words() -> None:
    closed = PortReservation()  # held, never listening: refused, and no other test can start a server there
    config = TargetConfig(1, "wiki", f"http://127.0.0.1:{closed.port}/v2", "wiki", secret="s")

    async def get() -> None:
        client = TargetClient(config)
        try:
            await client.request("GET", "/Users")
        finally:
            await client.close()

    with pytest.raises(Retryable) as raised:
        asyncio.run(get())
    assert str(raised.value) == "GET failed: cannot connect to the target (is it running, and is the address right?)"
    assert "ConnectError" not in str(raised.value)
    closed.close()
