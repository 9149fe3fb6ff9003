"""Backup key epochs as the operator handles them (``custos vault backup-keys``): which epochs there are and which
recorded backups each opens, a new epoch begun, an old one destroyed. Each change is recorded on the audit trail in
the write transaction that serialises it with the other processes (decision 0067)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection

from app.audit.trail import Event, append, of_kind, parse_utc
from app.core.actor import current_actor
from app.erasure.backup import record_began, recorded_epochs, seal_key_for_statements
from app.erasure.backup_keys import KEYS_FILENAME, WRAP_PURPOSE, BackupKeyError, BackupKeys, Epoch
from app.store.vault import Vault

__all__ = ["Epoch", "EpochView", "Epochs", "destroy", "epochs", "rotate", "settle", "unlisted_note"]


@dataclass(frozen=True)
class EpochView:
    epoch: Epoch
    backups: int  # backups recorded on the trail under it
    last_backup: datetime | None


@dataclass(frozen=True)
class Epochs:
    epochs: list[EpochView]
    before_epochs: int  # backups recorded before key epochs, under the vault's own key
    last_before_epochs: datetime | None
    # Backups the trail records under epochs the keys file does not list (by epoch): the file is missing, or is not
    # the one those backups were made with. Left out, the list read "No backup key epoch yet" above a trail of them.
    unlisted: dict[int, int] = field(default_factory=dict)
    keys_file_present: bool = True


def _backups(vault: Vault) -> tuple[Counter[int | None], dict[int | None, datetime]]:
    with vault.read_connection() as conn:
        return _counted(conn)


def _counted(conn: Connection) -> tuple[Counter[int | None], dict[int | None, datetime]]:
    """Backups known to this vault, by epoch, and the last one's time. A backup restored from counts too: its own
    ``vault.backup.created`` entry went to the vault it was copied from, so after a restore the list said "0" backups
    under its epoch, and destroying that epoch said it put none beyond use, while the backup itself (and its
    copies) existed. Its time is that of the newest entry it holds (it was made just after)."""
    counts: Counter[int | None] = Counter()
    last: dict[int | None, datetime] = {}
    seen: set[str] = set()
    for entry in of_kind(conn, "vault.backup.created", limit=100_000):  # newest first
        epoch = entry.details.get("key_epoch")
        key = epoch if isinstance(epoch, int) else None
        counts[key] += 1
        last.setdefault(key, parse_utc(entry.at))
        seen.add(str(entry.details.get("sha256", "")))
    for entry in of_kind(conn, "vault.restored", limit=100_000):
        digest, epoch, as_of = (entry.details.get(k) for k in ("backup_sha256", "key_epoch", "backup_as_of"))
        if not isinstance(digest, str) or digest in seen:
            continue  # restored twice from one backup, or its own record is here too: counted once
        seen.add(digest)
        key = epoch if isinstance(epoch, int) else None
        counts[key] += 1
        if isinstance(as_of, str) and (key not in last or parse_utc(as_of) > last[key]):
            last[key] = parse_utc(as_of)
    return counts, last


def epochs(vault: Vault) -> Epochs:
    counts, last = _backups(vault)
    keys = BackupKeys(vault.path.parent)
    seal_key = seal_key_for_statements(vault)  # the list as its seal vouches for it: an edit is refused, not shown
    listed = keys.verified_epochs(seal_key) if seal_key is not None and keys.exists() else keys.epochs()
    views = [EpochView(e, counts.get(e.n, 0), last.get(e.n)) for e in listed]
    known = {e.n for e in listed}
    unlisted = {n: counts[n] for n in sorted(n for n in counts if n is not None and n not in known)}
    return Epochs(views, counts.get(None, 0), last.get(None), unlisted, keys.exists())


def unlisted_note(found: Epochs) -> str | None:
    """What the list says of backups recorded under epochs it does not hold (the command line and the app say it
    alike), or None when there are none."""
    if not found.unlisted:
        return None
    total = sum(found.unlisted.values())
    numbers = ", ".join(str(n) for n in found.unlisted)
    where = "is not in the data folder" if not found.keys_file_present else "does not list them"
    return (f"Backups recorded under backup key epochs not held here: {total} (epoch(s) {numbers}); {KEYS_FILENAME} "
            f"{where}. They cannot be opened without the {KEYS_FILENAME} they were made with: copy it back from where "
            "the data folder's files are kept.")  # fmt: skip


def rotate(vault: Vault, now: datetime | None = None) -> tuple[Epoch, Epoch | None]:
    """Begin a new epoch; returns it and the epoch it retired (None: the first)."""
    keys = BackupKeys(vault.path.parent)
    moment = now or datetime.now(UTC)
    with vault.write_transaction() as conn:
        before = [e for e in keys.epochs() if e.state == "current"]
        begun = keys.rotate(vault.derived_key(WRAP_PURPOSE), vault.salt, moment, recorded_epochs(conn))
        retired = before[-1] if before else None
        record_began(conn, keys.epochs(), begun, "rotate")
    return begun, retired


def destroy(vault: Vault, n: int, now: datetime | None = None) -> EpochView:
    """Destroy epoch ``n``'s key for good: the backups made under it can no longer be opened, wherever they are."""
    keys = BackupKeys(vault.path.parent)
    with vault.write_transaction() as conn:
        counts, last = _counted(conn)  # here: a backup another process records is counted or waits for this
        gone = keys.destroy(vault.derived_key(WRAP_PURPOSE), n, now or datetime.now(UTC))
        details = {"epoch": n, "backups": counts.get(n, 0)}
        append(conn, Event("vault.backup_key.destroyed", current_actor.get(), details=details))
    return EpochView(gone, counts.get(n, 0), last.get(n))


def settle(vault: Vault) -> None:
    """Finish what a process killed half-way through left, when the vault is unlocked: a seal under the key the
    vault was under before a passphrase change (the old passphrase opened every backup until the next write), and
    an epoch begun or destroyed in the keys file whose trail entry never committed (a destruction off the record).
    A keys file that is missing, damaged or sealed elsewhere is left as it is: health says so, and what needs it
    refuses with the reason."""
    keys = BackupKeys(vault.path.parent)
    if not keys.exists():
        return
    seal_key = vault.derived_key(WRAP_PURPOSE)
    try:
        with vault.write_transaction() as conn:
            keys.drop_earlier_seals(seal_key)
            _record_missing(conn, keys.verified_epochs(seal_key))
    except BackupKeyError:
        return


def _record_missing(conn: Connection, listed: tuple[Epoch, ...]) -> None:
    """The trail entries the keys file shows were due: each listed epoch's beginning and each destruction. After a
    restore of an older backup these are the epochs begun (and destroyed) since it was made: true of this folder."""
    began = {e.details.get("epoch") for e in of_kind(conn, "vault.backup_key.began", limit=100_000)}
    destroyed = {e.details.get("epoch") for e in of_kind(conn, "vault.backup_key.destroyed", limit=100_000)}
    counts: Counter[object] = Counter(
        e.details.get("key_epoch") for e in of_kind(conn, "vault.backup.created", limit=100_000)
    )
    for epoch in listed:
        if epoch.n not in began:
            record_began(conn, listed, epoch, "recorded-late", began=epoch.began)
        if epoch.destroyed and epoch.n not in destroyed:
            details = {"epoch": epoch.n, "backups": counts.get(epoch.n, 0), "destroyed": epoch.destroyed,
                       "recorded_late": True}  # fmt: skip
            append(conn, Event("vault.backup_key.destroyed", current_actor.get(), details=details))
