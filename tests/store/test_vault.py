"""The encrypted store: SQLCipher settings, passphrase handling, permissions, no plaintext on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import func, select

from app.core.errors import VaultError, VaultExists, VaultNotFound, WrongPassphrase
from app.setup.tokens import TokenStore
from app.store import engine as sqlcipher_engine
from app.store.models import ApiToken, ScimResource
from app.store.vault import Vault, vault_path
from tests.conftest import PASSPHRASE


def test_cipher_settings_meet_the_floor(vault: Vault) -> None:
    settings = vault.cipher_settings
    assert settings.cipher_version.startswith("4.")
    assert settings.kdf_iterations >= 256_000
    assert settings.kdf_algorithm == "PBKDF2_HMAC_SHA512"
    assert settings.hmac_enabled
    assert settings.secure_delete
    assert settings.journal_mode == "wal"
    assert settings.temp_store == "MEMORY"


def test_file_and_folder_permissions(vault: Vault, data_dir: Path) -> None:
    with vault.write_session() as session:
        session.add(
            ScimResource(
                id="x",
                resource_type="User",
                document="{}",
                version=1,
                created=__import__("datetime").datetime.now(),
                modified=__import__("datetime").datetime.now(),
            )
        )
    vault.fix_permissions()
    for suffix in ("", "-wal", "-shm"):
        path = Path(str(vault.path) + suffix)
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, suffix


def test_wrong_passphrase_is_clear_and_changes_nothing(vault: Vault, data_dir: Path) -> None:
    vault.close()
    before = vault_path(data_dir).read_bytes()
    mtime = os.stat(vault_path(data_dir)).st_mtime_ns
    with pytest.raises(WrongPassphrase) as raised:
        Vault.unlock(data_dir, "not the passphrase")
    assert "passphrase" in raised.value.user_message
    assert vault_path(data_dir).read_bytes() == before
    assert os.stat(vault_path(data_dir)).st_mtime_ns == mtime


def test_unlock_missing_vault_creates_nothing(data_dir: Path) -> None:
    with pytest.raises(VaultNotFound):
        Vault.unlock(data_dir, PASSPHRASE)
    assert list(data_dir.iterdir()) == []


def test_create_refuses_existing_and_checks_confirmation(vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(VaultExists):
        Vault.create(data_dir, PASSPHRASE, PASSPHRASE)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(VaultError, match="differ"):
        Vault.create(other, "first passphrase", "second passphrase")
    with pytest.raises(VaultError, match="at least"):
        Vault.create(other, "short", "short")
    assert not vault_path(other).exists()


def test_file_is_unreadable_without_the_key(vault: Vault) -> None:
    TokenStore(vault).create("idp-client")
    path = vault.path
    vault.close()
    raw = path.read_bytes()
    assert b"SQLite format 3" not in raw
    assert b"idp-client" not in raw and b"api_tokens" not in raw
    plain = sqlcipher.connect(str(path))
    with pytest.raises(sqlcipher.DatabaseError):
        plain.execute("SELECT * FROM sqlite_master").fetchall()
    plain.close()


def test_reopen_and_change_passphrase(vault: Vault, data_dir: Path) -> None:
    TokenStore(vault).create("kept")
    vault.change_passphrase(PASSPHRASE, "a brand new passphrase", "a brand new passphrase")
    vault.close()
    with pytest.raises(WrongPassphrase):
        Vault.unlock(data_dir, PASSPHRASE)
    reopened = Vault.unlock(data_dir, "a brand new passphrase")
    with reopened.read_session() as session:
        assert session.scalar(select(ApiToken.name)) == "kept"
    reopened.close()


def test_change_passphrase_needs_current(vault: Vault) -> None:
    with pytest.raises(WrongPassphrase):
        vault.change_passphrase("not current one", "a brand new passphrase", "a brand new passphrase")


def test_closed_vault_refuses_work(vault: Vault) -> None:
    vault.close()
    from app.core.errors import VaultLocked

    with pytest.raises(VaultLocked), vault.read_session():
        pass


def test_no_temporary_plaintext_files(vault: Vault, data_dir: Path) -> None:
    store = TokenStore(vault)
    for index in range(20):
        store.create(f"client-{index}")
    names = sorted(p.name for p in data_dir.iterdir())
    assert set(names) <= {"custos.vault", "custos.vault-wal", "custos.vault-shm"}


def test_create_derives_the_key_once_and_never_hands_sqlcipher_the_passphrase(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLCipher would run its own PBKDF2 on a passphrase pragma: a second 256,000-round derivation per create."""
    derived: list[int] = []
    keyed_by_passphrase: list[int] = []
    real_derive, real_pragma = sqlcipher_engine.derive_raw_key, sqlcipher_engine._passphrase_pragma
    monkeypatch.setattr(sqlcipher_engine, "derive_raw_key", lambda *a, **k: derived.append(1) or real_derive(*a, **k))
    monkeypatch.setattr(
        sqlcipher_engine, "_passphrase_pragma", lambda p: keyed_by_passphrase.append(1) or real_pragma(p)
    )
    Vault.create(data_dir, PASSPHRASE, PASSPHRASE).close()
    assert (len(derived), len(keyed_by_passphrase)) == (1, 0)
    reopened = Vault.unlock(data_dir, PASSPHRASE)  # the same key from the passphrase: SQLCipher 4's own KDF
    reopened.close()


def test_a_read_snapshot_does_not_see_a_write_committed_during_it(vault: Vault) -> None:
    """read_snapshot: the statements inside agree with each other (one read transaction on the thread's own
    connection), and a snapshot opened inside it is the same one."""
    count = select(func.count()).select_from(ApiToken)
    tokens = TokenStore(vault)
    tokens.create("before-snapshot")
    with vault.read_snapshot() as conn:
        seen = conn.execute(count).scalar()
        tokens.create("during-snapshot")
        assert conn.execute(count).scalar() == seen
        with vault.read_snapshot() as inner:
            assert inner.execute(count).scalar() == seen
    with vault.read_snapshot() as conn:
        assert conn.execute(count).scalar() == seen + 1


def test_a_last_step_runs_once_while_the_vault_is_open_and_a_failing_one_never_keeps_it_open(
    vault: Vault, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[bool] = []

    def fails(closing: Vault) -> None:
        raise RuntimeError("a value that must not reach the log")

    vault.on_close(lambda closing: seen.append(closing.is_open))
    vault.on_close(fails)
    vault.close()
    vault.close()
    assert seen == [True] and not vault.is_open
    assert "RuntimeError" in caplog.text and "must not reach" not in caplog.text
