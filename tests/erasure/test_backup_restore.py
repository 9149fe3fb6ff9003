"""Backup → erase → restore: the restored vault is erased again before anything can use it, the targets it
says hold the subject are told again, and the replay is on the trail. A tampered ledger stops the restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.checkpoints import last_checkpoint
from app.audit.trail import of_kind
from app.audit.vault_lifecycle import unlock_vault
from app.core.errors import ConfigError
from app.erasure.backup import backup
from app.erasure.backup_keys import KEYS_FILENAME
from app.erasure.ledger import LEDGER_FILENAME, Ledger, LedgerError
from app.erasure.requests import request_erasure
from app.erasure.restore import restore
from app.erasure.tables import ErasureRequest, ErasureStep
from app.erasure.worker import ErasureWorker
from app.store.models import ScimResource
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.erasure.stub import StubTarget
from tests.erasure.support import TargetSpec, add_targets, held_without_push, person, service_for


def _users(vault: Vault) -> set[str]:
    with vault.read_connection() as conn:
        return set(conn.execute(select(ScimResource.user_name).where(ScimResource.resource_type == "User")).scalars())


def test_restore_replays_erasures_before_use(vault: Vault, data_dir: Path, tmp_path: Path, stub: StubTarget) -> None:
    ids = add_targets(vault, [TargetSpec(stub.name, stub.base_url, stub.token)])
    service = service_for(vault)
    gone = str(service.create("User", person("gone@example.test")).body["id"])  # type: ignore[index]
    service.create("User", person("kept@example.test"))
    service.close()
    held_without_push(vault, gone, {ids[stub.name]: stub.add_user("gone@example.test")})

    saved = backup(vault, tmp_path / "monday.vault")
    assert saved.path.read_bytes()[:16] == vault.path.read_bytes()[:16]  # same salt: same passphrase
    assert b"gone@example.test" not in saved.path.read_bytes()  # encrypted
    request_id = request_erasure(vault, [gone], "art17-1b", "dpo")
    ErasureWorker(vault).tick()
    assert _users(vault) == {"kept@example.test"}
    with pytest.raises(ConfigError):
        backup(vault, saved.path)  # backups are never overwritten
    vault.close()

    report = restore(data_dir, saved.path, PASSPHRASE, "dpo")
    assert report.subjects_erased == 1 and report.replayed_requests == 1
    assert report.previous_vault is not None and report.previous_vault.exists()

    restored = unlock_vault(data_dir, PASSPHRASE)
    try:
        assert _users(restored) == {"kept@example.test"}  # erased before this first open
        with restored.read_connection() as conn:
            replayed = of_kind(conn, "erasure.replayed")
            replay = conn.execute(select(ErasureRequest).where(ErasureRequest.origin == "replay")).mappings().one()
            step = conn.execute(select(ErasureStep.state).where(ErasureStep.request_id == replay["id"])).scalar()
        assert replayed[0].details["ledger_request"] == request_id
        assert replay["ground"] == "replay" and step == "queued"  # the backup says the target holds it: tell it again
        ErasureWorker(restored).tick()
        with restored.read_connection() as conn:
            assert conn.execute(select(ErasureStep.state).where(ErasureStep.request_id == replay["id"])).scalar() == (
                "succeeded"
            )
    finally:
        restored.close()


def test_a_tampered_ledger_stops_the_restore(vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    add_targets(vault, [])
    service = service_for(vault)
    rids = [str(service.create("User", person(f"t{n}@example.test")).body["id"]) for n in range(2)]  # type: ignore[index]
    service.close()
    saved = backup(vault, tmp_path / "b.vault")
    request_erasure(vault, rids[:1], "art17-1a", "dpo")
    request_erasure(vault, rids[1:], "art17-1a", "dpo")
    vault.close()
    ledger = data_dir / LEDGER_FILENAME
    lines = ledger.read_text().splitlines(keepends=True)
    ledger.write_text(lines[1])  # someone removed the first erasure from the ledger
    with pytest.raises(LedgerError):
        restore(data_dir, saved.path, PASSPHRASE, "dpo")
    assert not (data_dir / "custos.vault.restoring").exists()
    ledger.write_text("".join(lines))
    assert len(Ledger(data_dir).entries()) == 2
    assert restore(data_dir, saved.path, PASSPHRASE, "dpo").subjects_erased == 2


def test_a_restore_signs_what_it_wrote(vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    """The restore's own entries (vault.restored, the replayed erasures) are signed before the vault is swapped in:
    without `--follow` nothing else opened it afterwards, and cut off the end they would have left no trace."""
    add_targets(vault, [])
    service = service_for(vault)
    rid = str(service.create("User", person("r@example.test")).body["id"])  # type: ignore[index]
    service.close()
    saved = backup(vault, tmp_path / "b.vault")
    request_erasure(vault, [rid], "art17-1a", "dpo")
    vault.close()

    restore(data_dir, saved.path, PASSPHRASE, "dpo")

    restored = unlock_vault(data_dir, PASSPHRASE)
    try:
        with restored.read_connection() as conn:
            restored_at = of_kind(conn, "vault.restored")[-1].seq
            signed = last_checkpoint(conn)
        assert signed is not None and signed.tree_size >= restored_at
    finally:
        restored.close()


def test_the_first_backup_after_the_vault_was_created_in_this_process_is_written(tmp_path: Path) -> None:
    """Was: "database schema has changed" (sqlcipher_export on a connection whose schema predated the migrations):
    the app's first run made the vault, and its first *Back up the vault…* failed; the second worked."""
    from app.audit.vault_lifecycle import create_vault

    folder = tmp_path / "fresh"
    folder.mkdir(mode=0o700)
    vault = create_vault(folder, PASSPHRASE)
    try:
        info = backup(vault, tmp_path / "first.vault")
    finally:
        vault.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    (folder / KEYS_FILENAME).rename(copy / KEYS_FILENAME)
    restore(copy, info.path, PASSPHRASE, "test", create=True)  # the backup opens with the passphrase and the keys
    opened = unlock_vault(copy, PASSPHRASE)
    try:
        with opened.read_connection() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar()
    finally:
        opened.close()
