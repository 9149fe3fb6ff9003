"""Issue 11 §2: a token change made by another process on the vault bites in a running server within 2 s.

The server runs here; the change is made by the real CLI in a child process (revocation), or through a second,
independent unlock of the same vault file (creation, expiry): separate SQLite connections, as the desktop app
and `serve` have.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.audit.vault_lifecycle import unlock_vault
from app.setup.tokens import TokenStore
from app.store.models import ApiToken
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.scim.hardening_support import Hardened, hardened_server, wait_for

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 2.0  # what the issue asks


@pytest.fixture
def hardened(tmp_path: Path) -> Iterator[Hardened]:
    with hardened_server(tmp_path) as server:
        yield server


@pytest.fixture
def elsewhere(hardened: Hardened) -> Iterator[Vault]:
    """The same vault file opened a second time: another engine, other connections."""
    other = unlock_vault(hardened.data_dir, PASSPHRASE)
    yield other
    other.close()


def status(h: Hardened, token: str) -> int:
    with h.client(token) as http:
        return http.get("/ServiceProviderConfig").status_code


def test_a_revocation_from_the_cli_bites_within_2_s(hardened: Hardened, elsewhere: Vault) -> None:
    h = hardened
    _, secret = TokenStore(elsewhere).create("temporary")
    assert wait_for(lambda: status(h, secret) == 200, DEADLINE) is not None
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
    done = subprocess.run([sys.executable, "main.py", "token", "revoke", "temporary", "--data-dir", str(h.data_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "Revoked token temporary." in done.stdout
    took = wait_for(lambda: status(h, secret) == 401, 5.0)
    assert took is not None and took < DEADLINE  # before the fix: 200 until a restart
    assert status(h, h.token) == 200


def test_a_token_created_elsewhere_is_accepted_within_2_s(hardened: Hardened, elsewhere: Vault) -> None:
    h = hardened
    assert status(h, h.token) == 200  # the server has read its tokens
    _, secret = TokenStore(elsewhere).create("new-idp")
    took = wait_for(lambda: status(h, secret) == 200, 5.0)
    assert took is not None and took < DEADLINE  # before the fix: 401 until a restart


def test_an_expiry_set_elsewhere_bites_within_2_s(hardened: Hardened, elsewhere: Vault) -> None:
    h = hardened
    assert status(h, h.token) == 200
    soon = datetime.now(UTC) + timedelta(seconds=0.5)
    with elsewhere.write_session() as session:
        session.execute(update(ApiToken).where(ApiToken.name == "idp").values(expires=soon))
    took = wait_for(lambda: status(h, h.token) == 401, 5.0)
    assert took is not None and took < DEADLINE + 0.5


def test_the_store_rereads_after_its_refresh_interval_only(vault: Vault) -> None:
    now = [0.0]
    mine = TokenStore(vault, refresh_seconds=1.0, clock=lambda: now[0])
    theirs = TokenStore(vault)
    _, first = theirs.create("first")
    assert mine.verify(first) is not None
    _, second = theirs.create("second")
    now[0] = 0.9
    assert mine.verify(second) is None  # within the interval the cached view holds (no read per request)
    now[0] = 1.0
    assert mine.verify(second) is not None
    theirs.revoke("first")
    now[0] = 2.0
    assert mine.verify(first) is None
