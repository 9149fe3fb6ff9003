"""``custos vault backup-keys [list|rotate|destroy N]``: the backup key epochs (decision 0067). Printed formats are
in app/commands/vault.py's docstring, with the rest of ``vault``."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from app.commands.common import confirm, open_vault
from app.core.errors import ConfigError

if TYPE_CHECKING:
    from app.store.vault import Vault

COLUMNS = ("Epoch", "State", "Began (UTC)", "Retired (UTC)", "Destroyed (UTC)", "Backups", "Last backup (UTC)")


def run(args: argparse.Namespace) -> int:
    action = args.keys_command or "list"
    if action != "list" and getattr(args, "read_only", False):
        raise ConfigError(f"--read-only works on a copy of the data folder; vault backup-keys {action} cannot. "
                          "Nothing was done.")  # fmt: skip
    vault = open_vault(args)
    try:
        if action == "rotate":
            return _rotate(vault)
        if action == "destroy":
            return _destroy(vault, args.epoch, args.yes)
        return _list(vault)
    finally:
        vault.close()


def _when(text: str | datetime | None) -> str:
    if text is None:
        return "-"
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(text.replace("Z", "+00:00"))
    return f"{moment:%Y-%m-%d %H:%M}"


def _list(vault: Vault) -> int:
    from app.services.backup_keys import epochs, unlisted_note

    found = epochs(vault)
    rows = [COLUMNS] + [
        (str(v.epoch.n), v.epoch.state, _when(v.epoch.began), _when(v.epoch.retired), _when(v.epoch.destroyed),
         str(v.backups), _when(v.last_backup))
        for v in found.epochs
    ]  # fmt: skip
    if len(rows) == 1 and not found.unlisted:
        print("No backup key epoch yet: the first backup begins one.")
    elif len(rows) == 1:
        print("No backup key epoch is held here.")
    else:
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    note = unlisted_note(found)
    if note:
        print(note)
    if found.before_epochs:
        print(f"Backups made before key epochs: {found.before_epochs} (the last on {_when(found.last_before_epochs)} "
              "UTC): they open with the passphrase in force when they were made; destroying an epoch does not reach "
              "them.")  # fmt: skip
    return 0


def _rotate(vault: Vault) -> int:
    from app.services.backup_keys import rotate

    begun, retired = rotate(vault)
    if retired is None:
        print(f"Backup key epoch {begun.n} began; the next backup is made under it.")
    else:
        print(f"Backup key epoch {begun.n} began; epoch {retired.n} is retired: its backups open until it is "
              f"destroyed ('custos vault backup-keys destroy {retired.n}').")  # fmt: skip
    return 0


def _destroy(vault: Vault, n: int, assume_yes: bool) -> int:
    from app.services.backup_keys import destroy, epochs

    view = {v.epoch.n: v for v in epochs(vault).epochs}.get(n)
    made = f"{view.backups} backup(s) recorded under it" if view else "the backups made under it"
    if not confirm(f"Destroy backup key epoch {n}? {made[0].upper()}{made[1:]} can never be opened again, by anyone.",
                   assume_yes):  # fmt: skip
        print("Nothing destroyed.")
        return 1
    gone = destroy(vault, n)
    print(f"Backup key epoch {gone.epoch.n} destroyed: {gone.backups} backup(s) made under it can no longer be "
          "opened, by anyone; recorded on the audit trail.")  # fmt: skip
    return 0
