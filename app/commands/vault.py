"""``custos vault backup|restore``: encrypted backups, and restores that replay every later erasure first.

Printed formats (a contract):
  backup   ``Backup written: PATH (N bytes, sha256 HEX)`` and a reminder about the erasure ledger
  restore  ``Restored from PATH; N erasure(s) replayed in M request(s) before first use`` and, if a vault was
           replaced, ``The replaced vault was kept as PATH: delete it once the restore is checked.`` With
           ``--create`` into a folder holding no vault: ``Created the folder DIR.`` first when it was missing,
           then the restored line, ``DIR held no vault: the backup is its vault now.``, and, when no erasure
           ledger was there, one line saying no erasure made after the backup could be replayed, then, when the
           folder lacks the endpoint's files, ``Not in a backup: endpoint.toml, tls-cert.pem, tls-key.pem. Copy them
           here from the old data folder before 'custos serve', which would otherwise …``. Then, either way, when
           the restored vault accepts tokens: ``Tokens are as the backup held them; these are accepted: NAMES.
           Revoke again …``. A backup made before key epochs restores though backup-keys.json is damaged or
           altered: ``The backup was made before key epochs and opened without backup-keys.json. REASON Backups
           are refused until it is put right …``.
  check    ``Vault: PATH``, ``Pages: N of S bytes``, ``Page authentication: ok``, ``Page authentication: K
           page(s) fail: P, …`` or ``Page authentication: no page fails; SQLCipher reports N other problem(s):``,
           then SQLCipher's other findings one indented line each; ``Integrity check: ok`` or ``Integrity check: M
           problem(s)`` (``at least M`` when SQLite stopped counting) then one indented line each (at most 20, then
           ``… and N more``), or ``Integrity check: not run: REASON``; then ``Write-ahead log: none``, ``ok (N
           frame(s))`` or ``damaged at frame F: …``; last ``Verdict: intact`` or ``Verdict: damaged. …``. Exit 0
           intact, 1 damaged, 2 cannot check (wrong passphrase, no vault). Read-only: it can run while the app or
           ``serve`` has the vault open.
  passphrase  ``Passphrase changed: the vault is re-encrypted under the new one; recorded on the audit trail.``,
           then, when a key was remembered, ``The key the OS keyring remembered was forgotten: …``, and, when a
           backup was recorded before, ``Backups made before this change (the last on TIME UTC) open with the old
           passphrase only: …``, or, when the vault was restored since its last recorded backup, ``Backups made
           before this change (the last known is the one restored from on TIME UTC, sha256 HEX12…) open with …``.
           Refused (exit 1, nothing changed) while the app, ``serve`` or another command has the vault open.
           ``Backups made under backup key epochs open with the new passphrase: …`` when the backup keys were
           re-sealed; the line about older backups then says ``Backups made before key epochs``.
  backup-keys  (``list``, the default) a table: ``Epoch  State  Began (UTC)  Retired (UTC)  Destroyed (UTC)
           Backups  Last backup (UTC)``, one row per epoch, ``-`` for none, then ``Backups made before key epochs:
           N …`` when there are any, then ``Backups recorded under backup key epochs not held here: N (epoch(s)
           …); backup-keys.json …`` when the trail records backups under epochs the file does not list (with no
           epoch listed, ``No backup key epoch is held here.`` stands for the table). ``rotate``: ``Backup key
           epoch N began; epoch M is retired: …``. ``destroy N``
           (asks unless ``--yes``): ``Backup key epoch N destroyed: K backup(s) made under it can no longer be
           opened, by anyone; recorded on the audit trail.`` rotate and destroy are refused under ``--read-only``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.commands.common import confirm, open_vault, operator_name, vault_folder
from app.core.terminal import shown

SHOWN = 20  # integrity problems printed; the count says how many there are


def register(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    vault = commands.add_parser("vault", help="back up, restore, check and re-key the encrypted vault")
    sub = vault.add_subparsers(dest="vault_command", required=True)
    backup = sub.add_parser("backup", help="write an encrypted copy of the vault (same passphrase)")
    backup.add_argument("--out", required=True, help="the backup file to create (never overwritten)")
    add_data_dir(backup)
    restore = sub.add_parser(
        "restore", help="replace the vault by a backup, replaying the erasure ledger first (stop the app and serve)"
    )
    restore.add_argument("file", help="the backup file (`vault backup`)")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    restore.add_argument("--create", action="store_true",
                         help="the folder holds no vault yet (a new machine): restore into it, making it if missing; "
                              "without this a folder with no vault is refused")  # fmt: skip
    restore.add_argument("--wait", type=float, default=60.0, help="seconds to follow replayed erasures at targets")
    restore.add_argument(
        "--operator", help="who restores, for the audit trail (default: $CUSTOS_OPERATOR or the login name)"
    )
    add_data_dir(restore)
    check = sub.add_parser("check", help="check every page's authentication and the database's integrity, read-only")
    add_data_dir(check)
    passphrase = sub.add_parser(
        "passphrase",
        help="re-encrypt the vault under a new passphrase (the current one from $CUSTOS_PASSPHRASE or asked, the new "
        "one from $CUSTOS_NEW_PASSPHRASE or asked twice); stop the app and serve first",
    )
    passphrase.add_argument(
        "--operator", help="who changes it, for the audit trail (default: $CUSTOS_OPERATOR or the login name)"
    )
    add_data_dir(passphrase)
    keys = sub.add_parser("backup-keys", help="list, begin or destroy backup key epochs (a destroyed epoch's backups "
                                              "can no longer be opened)")  # fmt: skip
    keys_sub = keys.add_subparsers(dest="keys_command")
    add_data_dir(keys)
    add_data_dir(keys_sub.add_parser("list", help="the epochs and the backups recorded under each (the default)"))
    rotate = keys_sub.add_parser("rotate", help="begin a new epoch; the current one is retired, its backups still open")
    rotate.add_argument("--operator", help="who rotates, for the audit trail")
    add_data_dir(rotate)
    destroy = keys_sub.add_parser("destroy", help="destroy a retired epoch's key: its backups never open again")
    destroy.add_argument("epoch", type=int, help="the epoch's number (`vault backup-keys`)")
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    destroy.add_argument("--operator", help="who destroys it, for the audit trail")
    add_data_dir(destroy)


def run(args: argparse.Namespace) -> int:
    if args.vault_command == "backup":
        return _backup(args)
    if args.vault_command == "check":
        return _check(args)
    if args.vault_command == "passphrase":
        return _passphrase(args)
    if args.vault_command == "backup-keys":
        from app.commands.vault_keys import run as run_keys

        return run_keys(args)
    return _restore(args)


def _check(args: argparse.Namespace) -> int:
    from app.core.passphrase import read_passphrase
    from app.services.vault import MAX_PROBLEMS, check, describe_pages, require_vault

    folder = vault_folder(args)
    require_vault(folder)  # before the passphrase is asked: a mistyped folder is said as such
    checked = check(folder, read_passphrase())
    report = checked.report
    cipher = report.cipher
    print(f"Vault: {shown(checked.path)}")
    print(f"Pages: {cipher.pages} of {checked.page_size} bytes")
    print(f"Page authentication: {_pages_line(cipher, describe_pages)}")
    for line in cipher.other:
        print(f"  {line}")
    if not report.integrity_ran:
        print(f"Integrity check: not run: {report.integrity[0]}")
    elif report.integrity:
        count = len(report.integrity)
        print(f"Integrity check: {'at least ' if count >= MAX_PROBLEMS else ''}{count} problem(s)")
        for line in report.integrity[:SHOWN]:
            print(f"  {line}")
        if len(report.integrity) > SHOWN:
            print(f"  … and {len(report.integrity) - SHOWN} more")
    else:
        print("Integrity check: ok")
    print(f"Write-ahead log: {_wal_line(report.wal)}")
    if report.intact:
        print("Verdict: intact")
        return 0
    print("Verdict: damaged. Restore your latest backup: custos vault restore BACKUP (stop the app and serve first)")
    return 1


def _backup(args: argparse.Namespace) -> int:
    from app.services.vault import back_up, opening_note

    vault = open_vault(args)
    try:
        info = back_up(vault, Path(args.out))
    finally:
        vault.close()
    print(f"Backup written: {shown(info.path)} ({info.size} bytes, sha256 {info.sha256})")
    print(opening_note(info))
    return 0


def _passphrase(args: argparse.Namespace) -> int:
    from app.core.passphrase import read_new_passphrase, read_passphrase
    from app.services.vault import change_passphrase_in, require_vault

    folder = vault_folder(args)
    require_vault(folder)  # before anything is asked
    current = read_passphrase()
    new, again = read_new_passphrase()
    changed = change_passphrase_in(folder, current, new, again)
    print("Passphrase changed: the vault is re-encrypted under the new one; recorded on the audit trail.")
    if changed.keyring_forgotten:
        print("The key the OS keyring remembered was forgotten: the app asks for the new passphrase at its next start.")
    if changed.backup_keys_resealed:
        print("Backups made under backup key epochs open with the new passphrase: backup-keys.json is re-sealed "
              "under it.")  # fmt: skip
    if changed.backup_keys_problem:
        print(f"The backup keys were not re-sealed: {changed.backup_keys_problem} Make a new backup.")
    if changed.restored_from is not None:  # restored (from before key epochs) since the last backup recorded
        restored = changed.restored_from
        last = (f"the last known is the one restored from on {restored.at:%Y-%m-%d %H:%M} UTC, sha256 "
                f"{restored.sha256[:12]}…")  # fmt: skip
    elif changed.last_backup is not None:
        last = f"the last on {changed.last_backup:%Y-%m-%d %H:%M} UTC"
    else:
        return 0
    print(f"Backups made {'before key epochs' if changed.backup_keys_resealed else 'before this change'} ({last}) "
          "open with the old passphrase only: make a new one ('custos vault backup'), and keep or destroy the old "
          "ones knowing that.")  # fmt: skip
    return 0


def _restore(args: argparse.Namespace) -> int:
    from app.core.passphrase import read_passphrase
    from app.services.vault import check_restore_target, restore_backup

    # Not created here: a mistyped folder is refused before anything is asked or written (--create for a new one).
    folder = vault_folder(args)
    replacing = check_restore_target(folder, args.create)
    action = f"Replace the vault in {folder} by" if replacing else f"Make a vault in {folder} from"
    question = f"{action} the backup {args.file}? Stop the app and 'serve' first."
    if not confirm(question, args.yes):
        print("Nothing restored.")
        return 1
    report = restore_backup(folder, Path(args.file), read_passphrase(), operator_name(args), args.create)
    _print_restored(report, folder, Path(args.file), replacing)
    if report.replay_request_ids and args.wait > 0:
        _follow_replay(folder, report.replay_request_ids, args.wait)
    return 0


def _print_restored(report: Any, folder: Path, file: Path, replacing: bool) -> None:
    """What the restore did, and what it leaves the operator to do (keys sealed elsewhere, a ledger to copy)."""
    if report.created_folder:
        print(f"Created the folder {shown(folder)}.")
    print(
        f"Restored from {file.resolve()}; {report.subjects_erased} erasure(s) replayed in "
        f"{report.replayed_requests} request(s) before first use"
    )
    if report.key_epoch is not None:
        print(f"The backup was made under backup key epoch {report.key_epoch}; the restored vault is under the "
              "passphrase given.")  # fmt: skip
    if report.keys_sealed_elsewhere:
        print("backup-keys.json here is sealed under another passphrase than this backup's: backups are refused "
              "until the vault's passphrase is changed to the one in force before this restore.")  # fmt: skip
    if report.keys_problem:
        print(f"The backup was made before key epochs and opened without backup-keys.json. {report.keys_problem} "
              "Backups are refused until it is put right (put back your copy of it).")  # fmt: skip
    if report.previous_vault is not None:
        print(f"The replaced vault was kept as {report.previous_vault}: delete it once the restore is checked.")
    if not replacing:
        print(f"{shown(folder)} held no vault: the backup is its vault now.")
        if not report.ledger_found:
            print(
                "No erasure ledger was in it, so no erasure made after this backup could be replayed: if the old "
                "data folder has erasure-ledger.jsonl and erasure-ledger.key, copy both here and restore again."
            )
        _say_endpoint_files(folder)
    if report.usable_tokens:
        print(f"Tokens are as the backup held them; these are accepted: {', '.join(report.usable_tokens)}. Revoke "
              "again any revoked after the backup was made ('custos token revoke NAME'): it works again.")  # fmt: skip


def _follow_replay(folder: Path, request_ids: list[str], wait: float) -> None:
    """Watch the replayed erasures reach the targets for up to ``wait`` seconds (the passphrase is read again)."""
    from app.core.passphrase import read_passphrase
    from app.services.vault import follow_replay

    passphrase = read_passphrase()
    print(f"Following the replayed erasures at the targets for up to {wait:g} s…", flush=True)
    follow_replay(folder, passphrase, request_ids, wait)
    for request_id in request_ids:
        print(f"Replay request {request_id}: see 'erase status {request_id}'")


def _say_endpoint_files(folder: Path) -> None:
    """What a backup does not carry for `serve`: said after a restore into a new folder, since without it the
    identity providers, configured for the old address and certificate, stop reaching Custos."""
    from app.services.vault import endpoint_files_missing

    missing = endpoint_files_missing(folder)
    if not missing.names:
        return
    effects = []
    if missing.address_lost:
        effects.append(f"listen on {missing.default_address}, whatever address the old folder had saved")
    if missing.certificate_lost:
        effects.append("make a new self-signed certificate, whose fingerprint your identity providers do not know")
    print(f"Not in a backup: {', '.join(missing.names)}. Copy them here from the old data folder before 'custos "
          f"serve', which would otherwise {', and '.join(effects)}.")  # fmt: skip


def _pages_line(cipher: Any, describe_pages: Callable[[Any], str]) -> str:
    """What the page check found. Damage that is no failed page (a file cut mid-page) was printed as "0 page(s)
    fail:" with nothing after it, which reads as a clean check; now it says no page fails and what else is wrong."""
    if cipher.failed_pages:
        return f"{len(cipher.failed_pages)} page(s) fail: {describe_pages(cipher)}"
    if cipher.other:
        return f"no page fails; SQLCipher reports {len(cipher.other)} other problem(s):"
    return "ok"


def _wal_line(log: Any) -> str:
    if log is None:
        return "none"
    if log.damaged:
        return (
            f"damaged at frame {log.damaged_frame}: {log.frames_after} intact frame(s) after it, "
            f"{log.commits_after} transaction(s) SQLite would drop"
        )
    return f"ok ({log.frames} frame(s))"
