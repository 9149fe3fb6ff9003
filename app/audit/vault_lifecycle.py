"""Opening and creating the vault on the record: "vault.created" and "vault.unlocked" in the transaction that does it.

The store is the bottom layer and does not import the trail (issue 15 §1); it takes a :data:`~app.store.vault.Recorder`
from its caller instead. Everything that opens a vault for real use — the desktop app, the command line, `serve`,
the first-run assistant, the lock screen — goes through these functions (tests/audit/test_vault_lifecycle.py holds
app/ to it), so an opening is never off the record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from contextlib import suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, delete, select

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.store.models import VaultInfo
from app.store.vault import Recorder, Vault

# True while a command reviews a private copy of a data folder (``custos --read-only``): the copy is thrown away
# afterwards, so an opening recorded there would be kept nowhere, yet it would show in what the review reads (the
# trail's last entry, its count, the SIEM's pending entries) as if it were part of the evidence.
reviewing_a_copy: ContextVar[bool] = ContextVar("reviewing_a_copy", default=False)
# The folder a review copy was made from (None: not a review). What a review says of the folder's machine, its free
# disk, is said of it: `health --read-only` reported the space in the private copy's temporary folder, a path that
# was removed as the command ended and may lie on another disk than the folder under review.
reviewed_folder: ContextVar[Path | None] = ContextVar("reviewed_folder", default=None)
# The seq of the opening this process recorded at its last unlock (None: not recorded, as in a review of a copy).
# `audit verify` runs after its own opening, which is unsigned until the command signs a checkpoint as it ends: the
# verdict names it, or "entries N–N only chain-checked" read as a gap in the signing after every clean command.
own_opening: ContextVar[int | None] = ContextVar("own_opening", default=None)


def record(conn: Connection, kind: str, details: dict[str, object]) -> None:
    stored = append(conn, Event(kind, current_actor.get(), details=dict(details)))
    if kind == "vault.unlocked":
        own_opening.set(stored.seq)


def _recorder() -> Recorder | None:
    return None if reviewing_a_copy.get() else record


def create_vault(data_dir: Path, passphrase: str, confirmation: str | None = None) -> Vault:
    return Vault.create(data_dir, passphrase, confirmation, record=record)


def unlock_vault(data_dir: Path, passphrase: str) -> Vault:
    own_opening.set(None)  # an earlier unlock's seq in this process (tests, the app) must not be taken for this one
    return Vault.unlock(data_dir, passphrase, record=_recorder())


def unlock_vault_with_key(data_dir: Path, raw_key: bytes) -> Vault:
    own_opening.set(None)
    return Vault.unlock_with_key(data_dir, raw_key, record=_recorder())


# A passphrase change begun and not yet on the trail (vault_info): the rekey is SQLCipher's own commit of every page
# and no transaction an entry can join, so the change is marked first, under the old key, and the mark is cleared
# in the transaction that writes the entry. A process killed in between leaves the mark; the next opening settles it
# (:func:`settle_passphrase_change`). Its ``check`` tells the keys apart without holding one: the SHA-256 of a
# subkey of the vault's key kept for this purpose alone.
PENDING_CHANGE = "passphrase_change_pending"
_CHECK_PURPOSE = b"custos passphrase change pending"


def change_passphrase(vault: Vault, current: str, new: str, confirmation: str) -> None:
    """Re-encrypt the vault under ``new`` and say so on the trail: marked before the rekey, the entry written (and
    the mark cleared) right after it. The entry holds no secret, only that it was done and by whom."""
    mark = {"check": _key_check(vault), "actor": current_actor.get(), "began": datetime.now(UTC).isoformat()}
    with vault.write_transaction() as conn:
        drop_pending_change(conn)
        conn.execute(VaultInfo.__table__.insert().values(key=PENDING_CHANGE, value=json.dumps(mark)))
    try:
        vault.change_passphrase(current, new, confirmation)
    except BaseException:
        # Refused or failed: the vault is under the old key. Left in place, the mark is settled as "no change" at the
        # next opening; the refusal's own error is what the caller must see.
        with suppress(Exception), vault.write_transaction() as conn:
            drop_pending_change(conn)
        raise
    with vault.write_transaction() as conn:
        record(conn, "vault.passphrase_changed", {})
        drop_pending_change(conn)


def settle_passphrase_change(vault: Vault) -> None:
    """At an opening: a change whose process was killed between the rekey and its entry is put on the record now,
    as its changer's, with ``recorded_late`` and when it began; one killed before its rekey (the vault still under
    the key it marked) changed nothing and is recorded as nothing."""
    if vault.info(PENDING_CHANGE) is None:  # the common case, without taking the writer
        return
    with vault.write_transaction() as conn:
        text = conn.execute(select(VaultInfo.value).where(VaultInfo.key == PENDING_CHANGE)).scalar()
        if text is None:  # settled meanwhile by another process
            return
        try:
            mark = json.loads(text)
        except ValueError:
            mark = {}
        check = mark.get("check")
        if isinstance(check, str) and not hmac.compare_digest(check, _key_check(vault)):
            late = {"recorded_late": True, "began": str(mark.get("began", ""))}
            append(conn, Event("vault.passphrase_changed", str(mark.get("actor") or current_actor.get()), details=late))
        drop_pending_change(conn)


def drop_pending_change(conn: Connection) -> None:
    conn.execute(delete(VaultInfo).where(VaultInfo.key == PENDING_CHANGE))


def _key_check(vault: Vault) -> str:
    return hashlib.sha256(vault.derived_key(_CHECK_PURPOSE)).hexdigest()


def reopen_vault(vault: Vault, passphrase: str) -> None:
    vault.reopen(passphrase, record=record)
