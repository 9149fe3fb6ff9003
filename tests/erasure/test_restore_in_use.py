"""A restore while another process has the vault open (``serve``, the app, a command) is refused and changes
nothing.

It went through: the files were swapped under the running ``serve``, whose connections then read the new vault's
write-ahead log with the old file's pages; it answered every SCIM request 503 and reported the restored vault as
damaged ("a request met a damaged page"), which it was not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core.errors import VaultInUse
from app.erasure.backup import backup
from app.erasure.restore import restore
from app.services.vault import check_restore_target
from app.store.vault import Vault, vault_path
from tests.conftest import PASSPHRASE
from tests.vault_holder import held_elsewhere, release

REFUSED = r"Another program has the vault open .* then restore\. Nothing was changed\."


def _folder(data_dir: Path) -> set[str]:
    return {path.name for path in data_dir.iterdir()}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks; on Windows the swap itself is refused")
def test_a_restore_while_another_process_has_the_vault_open_is_refused_and_changes_nothing(
    vault: Vault, data_dir: Path, tmp_path: Path
) -> None:
    saved = backup(vault, tmp_path / "monday.vault").path
    vault.close()
    before, inode = _folder(data_dir), vault_path(data_dir).stat().st_ino
    with held_elsewhere(data_dir, PASSPHRASE) as holder:
        with pytest.raises(VaultInUse, match=REFUSED):
            check_restore_target(data_dir, create=False)  # `vault restore` asks this before the passphrase
        with pytest.raises(VaultInUse, match=REFUSED):
            restore(data_dir, saved, PASSPHRASE, "dpo")
        assert vault_path(data_dir).stat().st_ino == inode  # the same file, not swapped
        assert _folder(data_dir) - before <= {"custos.vault-wal", "custos.vault-shm"}  # no staging, no pre-restore
        release(holder)
    report = restore(data_dir, saved, PASSPHRASE, "dpo")  # alone now: the restore goes through
    assert report.previous_vault is not None and report.previous_vault.exists()



def test_a_vault_file_this_user_cannot_open_for_writing_is_not_called_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe needs the file open for writing; a file this user cannot write cannot be some Custos process's
    vault, and asking must not end the restore in a traceback (PermissionError)."""
    from app.store import engine

    file = tmp_path / "custos.vault"
    file.write_bytes(b"\0" * 4096)

    def refused(*_args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(engine.os, "open", refused)  # as for a 0400 file when not root
    assert engine.held_open_elsewhere(file) is False
