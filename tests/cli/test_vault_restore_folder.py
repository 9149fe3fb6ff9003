"""``vault restore`` into a folder that holds no vault. Before: the folder was made and the backup became a vault
there, so a mistyped ``--data-dir`` got a second vault (with no erasure ledger beside it, so nothing erased since
the backup was replayed) and the operator's real vault stayed damaged; even "Nothing restored." (answering no) or a
missing backup file left the folder behind. Now such a folder is refused in one line, exit 2, nothing made; a new
machine says so with ``--create``, and the command prints what it made and that no ledger was there to replay."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.cli import main
from app.erasure.backup_keys import KEYS_FILENAME
from app.store.vault import Vault
from tests.conftest import PASSPHRASE


@pytest.fixture
def backup(vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CUSTOS_DATA_DIR", raising=False)
    folder = vault.path.parent
    vault.close()
    out = tmp_path / "nightly.vault"
    assert main(["vault", "backup", "--out", str(out), "--data-dir", str(folder)]) == 0
    capsys.readouterr()
    return out


def test_a_mistyped_folder_is_refused_and_not_made(
    backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "custos-dta"
    assert main(["vault", "restore", str(backup), "--yes", "--data-dir", str(typo)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line == (f"custos: No vault in {typo}; nothing was restored or created. Give the folder of your vault "
                    "(--data-dir or CUSTOS_DATA_DIR), or, to restore onto a new machine or into a new folder, add "
                    "--create.")  # fmt: skip
    assert not typo.exists()
    empty = tmp_path / "empty"  # an existing folder without a vault is refused as well
    empty.mkdir()
    assert main(["vault", "restore", str(backup), "--yes", "--data-dir", str(empty)]) == 2
    assert list(empty.iterdir()) == []


def test_a_new_machine_restores_with_create_and_is_told_what_was_done(
    backup: Path, vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "new-machine" / "Custos"
    fresh.mkdir(parents=True, mode=0o700)
    shutil.copy2(vault.path.parent / KEYS_FILENAME, fresh / KEYS_FILENAME)  # carried over apart from the backups
    assert main(["vault", "restore", str(backup), "--yes", "--create", "--data-dir", str(fresh)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Restored from {backup}; 0 erasure(s) replayed in 0 request(s) before first use"
    assert lines[1] == "The backup was made under backup key epoch 1; the restored vault is under the passphrase given."
    assert lines[2] == f"{fresh} held no vault: the backup is its vault now."
    assert lines[3].startswith("No erasure ledger was in it, so no erasure made after this backup could be replayed")
    assert (fresh / "custos.vault").is_file() and oct(fresh.stat().st_mode & 0o777) == "0o700"
    assert main(["audit", "verify", "--data-dir", str(fresh)]) == 0  # a working vault


def test_a_new_machine_without_the_backup_keys_is_told_to_bring_them_and_keeps_no_folder(
    backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup made under a key epoch opens only with the epoch's secret: without backup-keys.json the restore
    says which file to bring, and the folder it made is removed again."""
    fresh = tmp_path / "new-machine" / "Custos"
    assert main(["vault", "restore", str(backup), "--yes", "--create", "--data-dir", str(fresh)]) == 2
    err = capsys.readouterr().err
    assert "This backup does not open." in err
    assert f"opens only with {KEYS_FILENAME} from the data folder it was made in, and there is none here" in err
    assert not fresh.exists()


def test_a_failed_create_leaves_no_folder(
    backup: Path, vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "new-machine"
    fresh.mkdir()
    shutil.copy2(vault.path.parent / KEYS_FILENAME, fresh / KEYS_FILENAME)
    monkeypatch.setenv("CUSTOS_PASSPHRASE", "not the passphrase of this backup")
    assert main(["vault", "restore", str(backup), "--yes", "--create", "--data-dir", str(fresh)]) == 2
    assert f"The passphrase does not open {KEYS_FILENAME} here" in capsys.readouterr().err
    assert not (fresh / "custos.vault").exists()
    assert [p.name for p in fresh.iterdir()] == [KEYS_FILENAME]  # what was there before, nothing more


def test_a_new_machine_is_told_to_bring_the_endpoint_address_and_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found following the README on a fresh machine: a backup holds the vault alone, and the guide named only the
    backup keys and the ledger to carry over, so `serve` on the new machine listened on 127.0.0.1:8443 with a new
    self-signed certificate the identity providers did not know. Now the restore names the files to copy, and says
    nothing once they are there."""
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CUSTOS_DATA_DIR", raising=False)
    old = tmp_path / "old"
    assert main(["init", "--host", "0.0.0.0", "--public-host", "scim.example.test", "--port", "0",
                 "--data-dir", str(old)]) == 0  # fmt: skip
    out = tmp_path / "nightly.vault"
    assert main(["vault", "backup", "--out", str(out), "--data-dir", str(old)]) == 0
    capsys.readouterr()

    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy2(old / KEYS_FILENAME, bare / KEYS_FILENAME)
    assert main(["vault", "restore", str(out), "--yes", "--create", "--data-dir", str(bare)]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-2] == (
        "Not in a backup: endpoint.toml, tls-cert.pem, tls-key.pem. Copy them here from the old data folder before "
        "'custos serve', which would otherwise listen on 127.0.0.1:8443, whatever address the old folder had saved, "
        "and make a new self-signed certificate, whose fingerprint your identity providers do not know."
    )
    assert said[-1].startswith("Tokens are as the backup held them; these are accepted: Identity provider.")

    carried = tmp_path / "carried"
    carried.mkdir()
    for name in (KEYS_FILENAME, "endpoint.toml", "tls-cert.pem", "tls-key.pem"):
        shutil.copy2(old / name, carried / name)
    assert main(["vault", "restore", str(out), "--yes", "--create", "--data-dir", str(carried)]) == 0
    assert not any(line.startswith("Not in a backup") for line in capsys.readouterr().out.splitlines())


def test_a_restore_says_which_tokens_it_accepts_again(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found restoring the README's backup: `okta`, revoked after the backup was made, was accepted again once the
    backup was restored (the vault holds the tokens; nothing else remembers a revocation to replay it), and the
    restore said nothing of it. Now it names the tokens the restored vault accepts and says to revoke again."""
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CUSTOS_DATA_DIR", raising=False)
    folder = vault.path.parent
    vault.close()
    for name in ("entra-prod", "okta"):
        assert main(["token", "create", "--name", name, "--data-dir", str(folder)]) == 0
    out = tmp_path / "nightly.vault"
    assert main(["vault", "backup", "--out", str(out), "--data-dir", str(folder)]) == 0
    assert main(["token", "revoke", "okta", "--data-dir", str(folder)]) == 0
    capsys.readouterr()

    assert main(["vault", "restore", str(out), "--yes", "--data-dir", str(folder)]) == 0
    said = capsys.readouterr().out.splitlines()
    assert ("Tokens are as the backup held them; these are accepted: entra-prod, okta. Revoke again any revoked after "
            "the backup was made ('custos token revoke NAME'): it works again.") in said  # fmt: skip
    assert main(["token", "list", "--data-dir", str(folder)]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^okta\s+active\s", listed, re.M)  # what the line warns of is so
    assert main(["token", "revoke", "okta", "--data-dir", str(folder)]) == 0
    capsys.readouterr()
    assert main(["vault", "backup", "--out", str(tmp_path / "later.vault"), "--data-dir", str(folder)]) == 0
    capsys.readouterr()
    assert main(["vault", "restore", str(tmp_path / "later.vault"), "--yes", "--data-dir", str(folder)]) == 0
    assert "these are accepted: entra-prod. Revoke again" in capsys.readouterr().out  # a revoked one is not named
