"""``custos vault passphrase``: a headless operator (``serve`` on a server) had no way to change the vault's
passphrase, and the app's change left nothing on the audit trail. Now the command re-encrypts the vault, the change
is an entry (``vault.passphrase_changed``, forwarded to the SIEM, holding no secret), and the command says what the
change does not reach: backups made before key epochs open with the old passphrase only (those made under an epoch
open with the new one: the backup keys are re-sealed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit.trail import of_kind
from app.siem.mapping import has_mapping, mapping_for
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE
from tests.legacy_backup import legacy_backup

NEW = "a brand new passphrase"


def test_the_passphrase_changes_on_the_record_and_backups_before_are_named(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _legacy(folder, tmp_path / "legacy.vault")
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "before.vault")).returncode == 0
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    done = run(folder, "vault", "passphrase", "--operator", "dana")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Passphrase changed: the vault is re-encrypted under the new one; recorded on the audit trail."
    assert lines[1].startswith("Backups made under backup key epochs open with the new passphrase")
    assert lines[-1].startswith("Backups made before key epochs (the last on ")
    assert "open with the old passphrase only" in lines[-1]
    assert PASSPHRASE not in done.stdout + done.stderr and NEW not in done.stdout + done.stderr
    assert run(folder, "audit", "verify").returncode != 0  # the old passphrase no longer opens it
    assert run(folder, "audit", "verify", passphrase=NEW).returncode == 0
    vault = Vault.unlock(folder, NEW)
    try:
        with vault.read_connection() as conn:
            (entry,) = of_kind(conn, "vault.passphrase_changed")
    finally:
        vault.close()
    assert entry.actor == "operator:dana" and entry.details == {}
    assert has_mapping("vault.passphrase_changed")
    assert mapping_for("vault.passphrase_changed").name == "Vault passphrase changed"


def test_a_new_passphrase_too_short_or_mistyped_changes_nothing(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", "short")
    refused = run(folder, "vault", "passphrase")
    assert refused.returncode != 0 and refused.stdout == ""
    assert "Traceback" not in refused.stderr and refused.stderr.startswith("custos: ")
    assert run(folder, "audit", "verify").returncode == 0  # still the old passphrase


def test_a_review_copy_cannot_change_the_passphrase(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    refused = run(folder, "vault", "passphrase", "--read-only")
    assert refused.returncode != 0 and "--read-only works on a copy" in refused.stderr
    assert run(folder, "audit", "verify").returncode == 0


def _legacy(folder: Path, out: Path) -> Path:
    vault = Vault.unlock(folder, PASSPHRASE)
    try:
        return legacy_backup(vault, out)
    finally:
        vault.close()


def test_a_backup_from_before_key_epochs_is_restored_with_the_old_passphrase_and_said_so(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: restoring it with the passphrase in force answered "does not unlock this vault": the vault it named
    opened with that passphrase; the backup did not, and nothing said a backup keeps its own. A backup made before key
    epochs still does; restored under the old passphrase, the backup keys (sealed under the new one) are said to be
    apart, backups are refused with the way out, and changing the passphrase back joins them again."""
    old = _legacy(folder, tmp_path / "before.vault")
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "epoch.vault")).returncode == 0  # keys exist
    assert run(folder, "vault", "passphrase").returncode == 0
    refused = run(folder, "vault", "restore", str(old), "--yes", "--wait", "0", passphrase=NEW)
    assert refused.returncode == 2
    assert "This backup does not open." in refused.stderr
    assert "None of the backup key epochs held here (1) opens it" in refused.stderr
    assert "a backup made before key epochs opens with the passphrase in force when it was made" in refused.stderr
    assert run(folder, "audit", "verify", passphrase=NEW).returncode == 0  # nothing changed
    restored = run(folder, "vault", "restore", str(old), "--yes", "--wait", "0")
    assert restored.returncode == 0, restored.stderr
    assert "backup-keys.json here is sealed under another passphrase than this backup's" in restored.stdout
    assert run(folder, "audit", "verify").returncode == 0  # the backup's passphrase is the vault's again
    blocked = run(folder, "vault", "backup", "--out", str(tmp_path / "blocked.vault"))
    assert blocked.returncode != 0 and "Change the vault's passphrase to the one in force before" in blocked.stderr
    assert not (tmp_path / "blocked.vault").exists()
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    back = run(folder, "vault", "passphrase")  # changed back to the passphrase the keys are sealed under
    assert back.returncode == 0, back.stderr
    assert "Backups made under backup key epochs open with the new passphrase" in back.stdout
    assert run(folder, "vault", "backup", "--out", str(tmp_path / "after.vault"), passphrase=NEW).returncode == 0


def test_a_backup_under_a_key_epoch_opens_with_the_passphrase_in_force_after_a_change(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup keys are re-sealed under the new passphrase, so a backup made before the change restores with the
    new one (and no longer with the old: the keys file does not open under it)."""
    epoch = tmp_path / "epoch.vault"
    assert run(folder, "vault", "backup", "--out", str(epoch)).returncode == 0
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    assert run(folder, "vault", "passphrase").returncode == 0
    refused = run(folder, "vault", "restore", str(epoch), "--yes", "--wait", "0")  # the old passphrase
    assert refused.returncode == 2 and "The passphrase does not open backup-keys.json here" in refused.stderr
    restored = run(folder, "vault", "restore", str(epoch), "--yes", "--wait", "0", passphrase=NEW)
    assert restored.returncode == 0, restored.stderr
    assert "The backup was made under backup key epoch 1" in restored.stdout
    assert run(folder, "audit", "verify", passphrase=NEW).returncode == 0


def test_after_a_restore_the_backup_restored_from_is_the_last_named(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: "(the last on TIME)" naming the backup made before the one restored from (whose own entry is on the
    vault it was copied from), or no line at all when that was the first: the newest backup, which opens with the
    old passphrase only after the change, went unmentioned."""
    import hashlib

    nightly = _legacy(folder, tmp_path / "nightly.vault")  # made before key epochs: it keeps its passphrase
    assert run(folder, "vault", "restore", str(nightly), "--yes").returncode == 0
    monkeypatch.setenv("CUSTOS_NEW_PASSPHRASE", NEW)
    done = run(folder, "vault", "passphrase")
    assert done.returncode == 0, done.stderr
    digest = hashlib.sha256(nightly.read_bytes()).hexdigest()
    assert done.stdout.splitlines()[-1].startswith(
        "Backups made before this change (the last known is the one restored from on "
    )
    assert f", sha256 {digest[:12]}…) open with the old passphrase only" in done.stdout.splitlines()[-1]
