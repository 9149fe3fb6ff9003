"""`custos health` (decision 0060): each check says ok, warn or fail from the vault's real state, and the command
exits 0, 1 or 3 with one line per check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from app.audit.trail import Event, append
from app.erasure.backup import backup
from app.incidents.register import IncidentRegister
from app.services import health
from app.setup.tls import generate_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.dsr.dsr_support import in_england, register_at
from tests.setup.cert_support import write_pair


def _levels(vault: Vault, now: datetime) -> dict[str, str]:
    return {check.name: check.level for check in health.check_all(vault, now)}


def test_a_fresh_vault_warns_only_of_what_is_missing(vault: Vault) -> None:
    now = datetime.now(UTC)
    levels = _levels(vault, now)
    assert levels["trail"] == levels["incidents"] == levels["requests"] == levels["targets"] == "ok"
    assert levels["tokens"] == "warn"  # none active: no identity provider can connect
    assert levels["backups"] == "warn"  # none recorded
    TokenStore(vault).create("entra", None)
    backup(vault, vault.path.parent / "b.vault")
    assert {name for name, level in _levels(vault, now).items() if level != "ok"} == set()


def test_passed_deadlines_and_a_broken_trail_fail(vault: Vault) -> None:
    now = datetime.now(UTC)
    incidents = IncidentRegister(vault, now=lambda: now - timedelta(days=4))
    stolen = incidents.open_incident("Laptop stolen", "dpo")
    incidents.set_aware(stolen, "dpo", "police report", at=now - timedelta(days=4))
    in_england(vault)
    register, _clock = register_at(vault, (now - timedelta(days=40)).isoformat())
    late = register.open(["access"], "email", "dpo", now - timedelta(days=40))
    checks = {check.name: check for check in health.check_all(vault, now)}
    assert checks["incidents"].level == "fail" and f"#{stolen}" in checks["incidents"].text
    assert checks["requests"].level == "fail" and late in checks["requests"].text
    assert "Laptop" not in checks["incidents"].text  # titles are free text: never in a check
    with vault.write_transaction() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 2"))
    assert _levels(vault, now)["trail"] == "fail"


def test_credentials_near_their_expiry_warn_and_an_expired_certificate_fails(vault: Vault, tmp_path: Path) -> None:
    info, _secret = TokenStore(vault).create("okta", 10)
    assert info.expires is not None
    now = datetime.now(UTC)
    assert _levels(vault, now)["tokens"] == "warn"
    generate_self_signed(vault.path.parent)
    assert _levels(vault, now)["certificate"] == "ok"
    cert, _key = write_pair(tmp_path, days=20)
    assert health.certificate(cert, now).level == "warn"
    assert health.certificate(cert, now + timedelta(days=21)).level == "fail"


def test_the_command_prints_a_line_per_check_and_exits_by_the_worst(vault_file: Path, data_dir: Path) -> None:
    done = run(data_dir, "health")
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["CHECK", "STATE", "DETAIL"]
    names = [line.split()[0] for line in lines[1:-1]]
    assert names == ["trail", "incidents", "requests", "targets", "tokens", "certificate", "siem", "backups", "disk"]
    assert lines[-1] == "Overall: warn (0 to act on now, 2 soon)" and done.returncode == 1
    as_json = json.loads(run(data_dir, "health", "--json").stdout)
    assert as_json["overall"] == "warn" and [c["check"] for c in as_json["checks"]] == names


def test_a_review_of_a_copy_says_the_free_disk_of_the_folder_reviewed(vault_file: Path, data_dir: Path) -> None:
    """`health --read-only` on a folder handed over said "… GiB free in /tmp/custos-review-…/custos": the private
    copy's temporary folder, removed as the command ended, and perhaps on another disk than the folder reviewed."""
    done = run(data_dir, "--read-only", "health")
    disk = next(line for line in done.stdout.splitlines() if line.startswith("disk"))
    assert disk.endswith(f" GiB free in {data_dir}"), disk
    assert "custos-review-" not in done.stdout


def test_a_collector_that_stopped_taking_the_trail_warns(vault: Vault) -> None:
    from app.siem import spool

    now = datetime.now(UTC)
    assert health.siem(vault, now).text == "no collector has taken the trail"
    with vault.write_transaction() as conn:
        spool.advance(conn, "siem.example.org:6514", spool.last_seq(conn))
        append(conn, Event("token.created", "operator:dpo", details={"name": "later"}))  # one entry to take
    assert health.siem(vault, now).level == "ok"  # behind, but it moved just now
    later = health.siem(vault, now + timedelta(hours=2))
    assert later.level == "warn" and later.text.startswith("not taking the trail: siem.example.org:6514 (")


def test_a_backup_made_before_key_epochs_and_a_passphrase_change_is_said_to_need_the_old_one(vault: Vault) -> None:
    """Was: "last recorded … (today)", ok, for a backup that opens only with a passphrase no longer in force. Such
    backups are those made before key epochs; one made under an epoch opens with the new passphrase."""
    from app.services.overview import backups_line
    from app.services.vault import change_passphrase
    from tests.conftest import PASSPHRASE
    from tests.legacy_backup import legacy_backup

    folder = vault.path.parent
    legacy_backup(vault, folder / "b.vault")
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert health.backups(vault, now).level == "ok"
    change_passphrase(vault, PASSPHRASE, "a brand new passphrase", "a brand new passphrase")
    check = health.backups(vault, now + timedelta(seconds=1))
    assert check.level == "warn"
    assert "before the passphrase change of " in check.text and check.text.endswith("old passphrase only")
    with vault.read_connection() as conn:
        assert backups_line(conn, now, folder).endswith("it opens with the old passphrase only")
    backup(vault, folder / "c.vault")  # a backup under a key epoch: nothing more to say
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert health.backups(vault, later).level == "ok"
    with vault.read_connection() as conn:
        assert "passphrase" not in backups_line(conn, later, folder)
    change_passphrase(vault, "a brand new passphrase", "a third passphrase", "a third passphrase")
    assert health.backups(vault, datetime.now(UTC) + timedelta(seconds=1)).level == "ok"  # re-sealed: still opens


def test_a_last_backup_whose_key_epoch_was_destroyed_is_said_to_be_unopenable(vault: Vault) -> None:
    """A backup whose epoch is destroyed can never be restored: "last recorded …, ok" would promise one that is
    not there."""
    from app.services import backup_keys
    from app.services.overview import backups_line

    folder = vault.path.parent
    backup(vault, folder / "b.vault")
    backup_keys.rotate(vault)
    backup_keys.destroy(vault, 1)
    check = health.backups(vault, datetime.now(UTC) + timedelta(seconds=1))
    assert check.level == "warn"
    assert "its backup key epoch 1 was destroyed on " in check.text and check.text.endswith("it cannot be opened")
    with vault.read_connection() as conn:
        assert backups_line(conn, datetime.now(UTC), folder).endswith("it cannot be opened")
    (folder / "backup-keys.json").unlink()
    backup_keys_gone = health.backups(vault, datetime.now(UTC) + timedelta(seconds=1))
    assert backup_keys_gone.level == "warn" and "backup-keys.json is not in the data folder" in backup_keys_gone.text
