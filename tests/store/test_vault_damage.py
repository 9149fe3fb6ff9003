"""The vault under a wrong passphrase and under damage, with real files and real flipped bytes: a wrong passphrase
after kill -9 touches no file; damage is told from a wrong passphrase, named with the file and what to do, never
a traceback (CLI as subprocesses); `vault check` reports it; a damaged page met by a request is a 503 and an
operator alert."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit.vault_lifecycle import unlock_vault
from app.core.errors import VaultCorrupt, WrongPassphrase
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.siem.alerts import AlertRaised
from app.store import engine
from app.store.integrity import is_corruption
from app.store.vault import Vault, vault_path
from tests.cli.test_cli import ROOT, run
from tests.conftest import PASSPHRASE, USER_SCHEMA
from tests.erasure.support import person, service_for
from tests.policy_support import hold_everything
from tests.store.damage import PAGE, flip, in_page, page_read_only_by

USERS = 120
_KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from app.store.integrity import is_corruption
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.erasure.support import person, service_for
vault = Vault.create(Path(sys.argv[1]), sys.argv[2], sys.argv[2])
TokenStore(vault).create("idp")
service = service_for(vault)
for number in range(40):
    service.create("User", person(f"killed-{number}@example.test"))
os.kill(os.getpid(), signal.SIGKILL)  # as kill -9 of serve: -wal and -shm stay behind
"""


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        item.name: (hashlib.sha256(item.read_bytes()).hexdigest(), item.stat().st_mtime_ns)
        for item in sorted(folder.iterdir())
    }


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed vault (WAL checkpointed into the file) with a token, users and their audit trail."""
    folder = tmp_path_factory.mktemp("intact")
    vault = Vault.create(folder, PASSPHRASE, PASSPHRASE)
    hold_everything(vault)
    TokenStore(vault).create("idp")
    service = service_for(vault)
    for number in range(USERS):
        service.create("User", person(f"user-{number}@example.test"))
    service.close()
    vault.close()
    return folder


@pytest.fixture
def copy(intact: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(intact, folder)
    return folder


def _raw_key(folder: Path) -> tuple[bytes, bytes]:
    salt = engine.read_salt(vault_path(folder))
    return engine.derive_raw_key(PASSPHRASE, salt), salt


@pytest.fixture(scope="module")
def killed_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vault whose writer was killed with SIGKILL: 40 users committed, most of them only in the -wal."""
    folder = tmp_path_factory.mktemp("killed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(folder), PASSPHRASE], cwd=ROOT, env=env)
    assert killed.returncode == -signal.SIGKILL
    return folder


@pytest.fixture
def killed(killed_source: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "killed"
    shutil.copytree(killed_source, folder)
    return folder


def test_wrong_passphrase_after_kill_9_touches_no_file(killed: Path) -> None:
    data_dir = killed
    before = _snapshot(data_dir)
    assert {"custos.vault-wal", "custos.vault-shm"} <= set(before)

    wrong = run(data_dir, "token", "list", passphrase="not the passphrase")

    assert wrong.returncode == 2 and "does not unlock this vault" in wrong.stderr
    assert _snapshot(data_dir) == before  # same files, same bytes, not even rewritten with the same bytes
    with pytest.raises(WrongPassphrase):
        Vault.unlock(data_dir, "not the passphrase either")
    assert _snapshot(data_dir) == before
    right = run(data_dir, "token", "list")
    assert right.returncode == 0 and right.stdout.splitlines()[1].startswith("idp ")  # nothing was lost


DAMAGE = {
    "page 1": in_page(1, 2000),
    # The 80 bytes at the end of a page: IV (16), then HMAC-SHA512 (64), of the page holding the newest trail
    # entries, which every opening reads to append its own "vault.unlocked" (which page is last in the file
    # depends on the migrations' layout: it may be a free page that nothing reads).
    "trail page IV": PAGE - 70,
    "trail page HMAC": PAGE - 10,
}
NEWEST_ENTRY = "SELECT * FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)"


def _trail_page(folder: Path) -> int:
    key, salt = _raw_key(folder)
    return page_read_only_by(vault_path(folder), key, salt, NEWEST_ENTRY, ["SELECT count(*) FROM api_tokens"])
COMMANDS = {
    "token list": ["token", "list"],
    "audit verify": ["audit", "verify"],
    "serve": ["serve", "--host", "127.0.0.1", "--port", "0", "--no-tls"],
}


# The index the unlock's own audit entry ("vault.unlocked") is inserted into: damage there met on every unlock.
UNLOCK_INDEX = "SELECT seq FROM audit_events INDEXED BY ix_audit_kind_seq WHERE kind = 'vault.unlocked'"


def _damage(folder: Path, where: str) -> None:
    path = vault_path(folder)
    if where == "audit index page":
        key, salt = _raw_key(folder)
        flip(path, in_page(page_read_only_by(path, key, salt, UNLOCK_INDEX, ["SELECT count(*) FROM api_tokens"])))
    elif where.startswith("trail page"):
        flip(path, in_page(_trail_page(folder), DAMAGE[where]))
    else:
        flip(path, DAMAGE[where])


@pytest.mark.parametrize("where", [*DAMAGE, "audit index page"])
@pytest.mark.parametrize("command", COMMANDS)
def test_damage_is_named_never_a_traceback(copy: Path, where: str, command: str) -> None:
    path = vault_path(copy)
    _damage(copy, where)
    damaged = path.read_bytes()

    result = run(copy, *COMMANDS[command])

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "sqlalche" not in result.stderr
    assert f"custos: The vault {path} is damaged" in result.stderr
    assert "custos vault check" in result.stderr and "custos vault restore BACKUP" in result.stderr
    assert "passphrase does not unlock" not in result.stderr
    assert path.read_bytes() == damaged  # no data page was written


def test_damaged_page_1_under_a_wrong_passphrase_is_still_a_wrong_passphrase(copy: Path) -> None:
    flip(vault_path(copy), in_page(1, 2000))
    result = run(copy, "token", "list", passphrase="not the passphrase")
    assert result.returncode == 2 and "does not unlock this vault" in result.stderr


def test_vault_check_intact(copy: Path) -> None:
    result = run(copy, "vault", "check")
    pages = vault_path(copy).stat().st_size // 4096
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Vault: {vault_path(copy)}",
        f"Pages: {pages} of 4096 bytes",
        "Page authentication: ok",
        "Integrity check: ok",
        "Write-ahead log: none",
        "Verdict: intact",
    ]


def _users(folder: Path) -> int:
    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        with vault.read_connection() as conn:
            return int(conn.execute(text("SELECT count(*) FROM scim_resources")).scalar_one())
    finally:
        vault.close()


def test_a_flipped_byte_early_in_the_wal_is_damage_not_silent_loss(killed: Path, tmp_path: Path) -> None:
    """SQLite stops reading a WAL at the first frame that does not verify: every later transaction would vanish
    on the next open, and for good at its checkpoint. The frames after it are intact: that is damage."""
    wal = Path(f"{vault_path(killed)}-wal")
    flip(wal, 200)  # inside the first frame's page
    before = _snapshot(killed)

    opened = run(killed, "token", "list")
    checked = run(killed, "vault", "check")

    assert opened.returncode == 2 and "Traceback" not in opened.stderr
    assert f"The vault {vault_path(killed)} is damaged (its write-ahead log is damaged at frame 1: opening it " in (
        opened.stderr
    )
    assert checked.returncode == 1
    wal_line = next(line for line in checked.stdout.splitlines() if line.startswith("Write-ahead log: "))
    assert wal_line.startswith("Write-ahead log: damaged at frame 1: ")
    assert wal_line.endswith(" transaction(s) SQLite would drop")
    after = _snapshot(killed)
    assert after[wal.name] == before[wal.name] and after["custos.vault"] == before["custos.vault"]  # kept as found
    flip(wal, 200)  # the byte put back (a repaired disk, say): nothing was lost
    assert _users(killed) == 40


def test_a_wal_torn_at_its_end_is_not_damage(killed: Path) -> None:
    """A crash mid-write tears the last frame: SQLite drops that unfinished transaction, as it should."""
    wal = Path(f"{vault_path(killed)}-wal")
    with open(wal, "r+b") as handle:
        handle.truncate(wal.stat().st_size - 1000)

    checked = run(killed, "vault", "check")
    listed = run(killed, "token", "list")

    assert checked.returncode == 0 and "Write-ahead log: ok (" in checked.stdout
    assert listed.returncode == 0, listed.stderr
    assert _users(killed) >= 39  # at most the torn, last transaction is gone


@pytest.mark.parametrize("where", ["page 1", "index page", "trail page IV"])
def test_vault_check_names_the_damaged_page(copy: Path, where: str) -> None:
    path = vault_path(copy)
    if where == "index page":
        key, salt = _raw_key(copy)
        index = "SELECT user_name_ci FROM scim_resources INDEXED BY sqlite_autoindex_scim_resources_2"
        page = page_read_only_by(path, key, salt, index, ["SELECT count(*) FROM scim_resources NOT INDEXED"])
        flip(path, in_page(page))
    elif where == "page 1":
        flip(path, DAMAGE[where])
        page = 1
    else:
        page = _trail_page(copy)
        flip(path, in_page(page, DAMAGE[where]))
    before = path.read_bytes()

    result = run(copy, "vault", "check")

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2] == f"Page authentication: 1 page(s) fail: {page}"
    assert lines[3].startswith("Integrity check: ") and lines[3] != "Integrity check: ok"
    assert lines[-1].startswith("Verdict: damaged. Restore your latest backup: custos vault restore BACKUP")
    assert path.read_bytes() == before  # read-only
    assert run(copy, "vault", "check", passphrase="not the passphrase").returncode == 2


def test_unlock_raises_vault_corrupt_in_process(copy: Path) -> None:
    flip(vault_path(copy), in_page(_trail_page(copy), PAGE - 70))
    with pytest.raises(VaultCorrupt) as raised:
        unlock_vault(copy, PASSPHRASE)  # the opening appends to that page
    assert str(vault_path(copy)) in raised.value.user_message


def _damage_a_user_page(folder: Path) -> None:
    """A scim_resources data page: the unlock does not read it; requests and backups do."""
    path = vault_path(folder)
    key, salt = _raw_key(folder)
    intact = [
        "SELECT * FROM alembic_version",
        "SELECT * FROM audit_events",
        "SELECT * FROM api_tokens",
        "SELECT * FROM vault_info",
        "SELECT * FROM policy_versions",
    ]
    flip(path, in_page(page_read_only_by(path, key, salt, "SELECT document FROM scim_resources", intact)))


def test_a_backup_of_a_damaged_vault_is_refused_and_leaves_no_file(copy: Path, tmp_path: Path) -> None:
    _damage_a_user_page(copy)
    out = tmp_path / "backup.vault"

    result = run(copy, "vault", "backup", "--out", str(out))

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"custos: The vault {vault_path(copy)} is damaged" in result.stderr
    assert list(tmp_path.glob("backup.vault*")) == []  # neither the backup nor its .partial


NEW_USER = "zz-new@example.test"
# The unique index a POST of NEW_USER probes (resource type, case-folded userName) before it inserts.
UNIQUE_INDEX = f"SELECT id FROM scim_resources WHERE resource_type = 'User' AND user_name_ci = '{NEW_USER}'"


def _damage_the_unique_index(folder: Path) -> None:
    path = vault_path(folder)
    key, salt = _raw_key(folder)
    intact = ["SELECT * FROM audit_events", "SELECT * FROM api_tokens", "SELECT count(*) FROM scim_resources"]
    flip(path, in_page(page_read_only_by(path, key, salt, UNIQUE_INDEX, intact)))


@pytest.fixture(params=["user data page", "unique index page"])
def damaged_page(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def damaged_server(copy: Path, damaged_page: str) -> Iterator[tuple[httpx.Client, list[object]]]:
    """The real server over HTTPS on a vault with a damaged scim_resources data page, or a damaged page of the
    userName index that a POST probes."""
    (_damage_a_user_page if damaged_page == "user data page" else _damage_the_unique_index)(copy)
    vault = Vault.unlock(copy, PASSPHRASE)
    _, token = TokenStore(vault).create("damage-test")
    tls = ensure_self_signed(copy)
    bus = EventBus()
    published: list[object] = []
    bus.subscribe(published.append)
    server = ScimServer(vault, tls=tls, bus=bus)
    server.start()
    verify = ssl.create_default_context(cafile=str(tls.cert_path))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=server.base_url, verify=verify, headers=headers, timeout=30) as client:
            yield client, published
    finally:
        server.stop()
        vault.close()


def test_a_request_meeting_a_damaged_page_gets_503_and_the_operator_an_alert(
    damaged_server: tuple[httpx.Client, list[object]], caplog: pytest.LogCaptureFixture, damaged_page: str
) -> None:
    client, published = damaged_server
    def meet_the_damage() -> httpx.Response:  # a read of every user, or a write that checks userName uniqueness
        if damaged_page == "user data page":
            return client.get("/Users", params={"count": 1000})
        return client.post("/Users", json={"schemas": [USER_SCHEMA], "userName": NEW_USER})

    with caplog.at_level(logging.INFO):
        first, second = meet_the_damage(), meet_the_damage()

    for answer in (first, second):
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "300"
        assert answer.json()["detail"] == "The service is unavailable; the operator has been alerted."
    alerts = [event for event in published if isinstance(event, AlertRaised)]
    assert len(alerts) == 1 and alerts[0].rule == "vault-damaged"  # once a minute, not once per request
    assert "custos vault check" in alerts[0].summary
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1 and "vault damaged" in critical[0].getMessage()
    assert not any("Traceback" in r.getMessage() or r.exc_info for r in caplog.records)
    assert client.get("/ServiceProviderConfig").status_code == 200  # the rest still answers


def test_a_connection_that_met_damage_is_dropped_and_later_writes_go_on(copy: Path) -> None:
    """SQLCipher refuses every write on a connection after a page failed authentication there (SQLITE_READONLY):
    the pool drops that connection, so only what touches a damaged page fails."""
    _damage_a_user_page(copy)
    vault = Vault.unlock(copy, PASSPHRASE)
    try:
        with pytest.raises(DBAPIError) as met, vault.read_connection() as conn:
            conn.execute(text("SELECT document FROM scim_resources")).fetchall()
        assert is_corruption(met.value)
        for number in range(5):  # before: "attempt to write a readonly database", every time
            with vault.write_transaction() as conn:
                conn.execute(text("INSERT INTO vault_info (key, value) VALUES (:k, 'v')"), {"k": f"after-{number}"})
    finally:
        vault.close()



def test_the_advice_works_restore_a_backup_over_a_damaged_vault(copy: Path, tmp_path: Path) -> None:
    backup = tmp_path / "before.vault"
    assert run(copy, "vault", "backup", "--out", str(backup)).returncode == 0
    flip(vault_path(copy), in_page(1, 2000))
    assert run(copy, "token", "list").returncode == 2

    restored = run(copy, "vault", "restore", str(backup), "--yes", "--wait", "0")

    assert restored.returncode == 0, restored.stderr
    listed = run(copy, "token", "list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("idp ")
    assert run(copy, "vault", "check").returncode == 0
