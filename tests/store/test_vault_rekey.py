"""Changing the passphrase re-encrypts the file: refused while another process has the vault open (its connections
would go on with the old key and fail on their next page), and the vault left working as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import VaultInUse
from app.setup.tokens import TokenStore
from app.store.models import ApiToken
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.vault_holder import held_elsewhere, release

NEW = "a brand new passphrase"
def test_a_change_while_another_process_has_the_vault_open_is_refused_and_changes_nothing(
    vault: Vault, data_dir: Path
) -> None:
    TokenStore(vault).create("kept")
    with held_elsewhere(data_dir, PASSPHRASE) as holder:
        with pytest.raises(VaultInUse, match="Another program has the vault open"):
            vault.change_passphrase(PASSPHRASE, NEW, NEW)
        TokenStore(vault).create("after the refusal")  # this process's vault still reads and writes
        assert release(holder) == "2"  # the other process still reads its pages: nothing re-keyed
    vault.change_passphrase(PASSPHRASE, NEW, NEW)  # alone now: the change goes through
    vault.close()
    reopened = Vault.unlock(data_dir, NEW)
    with reopened.read_session() as session:
        assert sorted(session.scalars(select(ApiToken.name))) == ["after the refusal", "kept"]
    reopened.close()


def test_a_read_racing_the_change_in_this_process_does_not_refuse_it(
    vault: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: "Another program has the vault open" from the app itself, now and then (a DPO walk saw it three times):
    a thread that had taken the vault's engine just before the change closed it read on it afterwards, which opened
    a new connection on the disposed engine and kept it (a reader's connection stays open); in WAL mode that
    connection's shared lock refused the rekey. A read on a closed engine is now refused like a read on a closed
    vault, and the change goes through."""
    from app.core.errors import VaultLocked
    from app.store import engine as sqlcipher_engine

    stale = vault.engine  # what a reading thread held when the change began
    real_rekey = sqlcipher_engine.rekey
    refused: list[BaseException] = []

    def rekey_after_a_racing_read(*args: object) -> bytes:
        try:
            with vault.readers.connection(stale) as conn:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
        except VaultLocked as exc:
            refused.append(exc)
        return real_rekey(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlcipher_engine, "rekey", rekey_after_a_racing_read)
    vault.change_passphrase(PASSPHRASE, NEW, NEW)
    assert len(refused) == 1
    TokenStore(vault).create("after the change")  # the vault works under the new key
    vault.close()
    Vault.unlock(data_dir, NEW).close()
