"""Backup key epochs: each backup is encrypted under the key of an epoch, and destroying an epoch's key puts every
backup made under it beyond use, wherever its copies went (decision 0067; GDPR Art. 17, the ICO's "beyond use").

A backup is a copy the vault cannot reach: erasing a subject cannot touch it, and restoring it replays the erasure
ledger only where the restore goes through Custos. The key is what Custos can still reach. Each epoch has a random
32-byte secret; a backup made in the epoch is keyed with HKDF(secret, epoch) instead of the vault's key. The
secrets live in ``backup-keys.json`` beside the vault (never inside it, never in a backup: like the erasure ledger,
decision 0010), sealed with AES-GCM under a key derived from the vault's key, so the file alone opens nothing and
the vault's passphrase alone opens no backup. A passphrase change re-seals the file (both seals are kept while the
vault is re-encrypted, so a crash between leaves one that opens; the next unlock drops the old one), which is also
why a backup made under an epoch opens with the passphrase in force at the restore, not the one of its day.

The file says in clear which epochs exist, when each began, was retired and destroyed; that list is the seal's
associated data, so an edit to it (an epoch's destruction undone, a date moved) makes the file refuse to open.
Destroying an epoch removes its secret from the file; the filesystem may keep old blocks of earlier versions of
the file, but those are sealed under the vault's key too.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.audit.trail import canonical, iso_utc, parse_utc
from app.core.errors import CustosError
from app.core.subkeys import subkey

KEYS_FILENAME = "backup-keys.json"
FORMAT = "custos-backup-keys/1"
SECRET_BYTES = 32
NONCE_BYTES = 12
EPOCH_LENGTH = timedelta(days=30)  # a backup made in an epoch older than this starts a new one first
WRAP_PURPOSE = b"custos/backup-keys/v1/seal"
_BACKUP_KEY_LABEL = b"custos/backup/v1/epoch:"
_KEY_ID_LABEL = b"custos/backup-keys/v1/key-id"


class BackupKeyError(CustosError):
    """The backup keys file is missing, damaged, altered, or does not open with this vault's key."""


class SealMismatch(BackupKeyError):
    """The file holds no seal under the key given: the vault is under another passphrase than the one tried."""


@dataclass(frozen=True)
class Epoch:
    n: int
    began: str  # ISO 8601 UTC, as the trail writes it
    retired: str | None = None  # a later epoch began: backups are no longer made under this one
    destroyed: str | None = None  # its secret is gone: backups made under it can no longer be opened

    @property
    def state(self) -> str:
        return "destroyed" if self.destroyed else "retired" if self.retired else "current"


@dataclass(frozen=True)
class _Contents:
    vault_salt: str
    epochs: tuple[Epoch, ...]
    seals: dict[str, str]  # key id -> nonce || AES-GCM(sealed secrets), hex


def backup_key(secret: bytes, n: int) -> bytes:
    """The SQLCipher key of every backup made in epoch ``n``."""
    return subkey(secret, _BACKUP_KEY_LABEL + str(n).encode())


class BackupKeys:
    """The epochs of one data folder. Every method that reads secrets takes ``seal_key`` (``subkey`` of the vault's
    key for :data:`WRAP_PURPOSE`); callers serialise writes with the vault's write transaction."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / KEYS_FILENAME

    # -- reading -----------------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists() or self.path.is_symlink()  # a dangling link is refused as a link, not "missing"

    def epochs(self) -> tuple[Epoch, ...]:
        """The epochs as the file lists them, without opening a seal (empty: no backup under an epoch yet)."""
        return self._read().epochs if self.exists() else ()

    def sealed(self) -> bool:
        """Whether the file holds any seal (a review copy, or a file stripped of its seals, holds none)."""
        return bool(self._read().seals)

    def vault_salt(self) -> bytes:
        """The salt of the vault whose key the secrets are sealed under (with the passphrase, it gives that key)."""
        try:
            return bytes.fromhex(self._read().vault_salt)
        except ValueError:
            raise BackupKeyError(f"The backup keys file {self.path.name} is damaged.") from None

    def secrets(self, seal_key: bytes) -> dict[int, bytes]:
        """Every secret still held, by epoch; raises BackupKeyError if the file does not open under ``seal_key``."""
        if not self.exists():
            return {}
        return self._open(self._read(), seal_key)

    def verified_epochs(self, seal_key: bytes) -> tuple[Epoch, ...]:
        """The epochs, once the seal under ``seal_key`` has vouched for the list (its associated data): what is said
        from them (health, the Overview) is then what the file held when Custos last wrote it, not an edit."""
        contents = self._read()
        self._open(contents, seal_key)
        return contents.epochs

    def copy_epochs_to(self, folder: Path) -> None:
        """The list of epochs without any seal, for a review copy of the data folder (which holds no secret,
        decision 0050): what it says of the backups stays true, and nothing in it opens one. A file that does not
        read (damaged, a link) is copied as an empty one, which reads as damaged too: nothing of it is carried over,
        and the review (``audit verify`` of a folder handed over as evidence) is not refused for it."""
        try:
            document = _document(self._read(), {})
        except BackupKeyError:
            document = b""
        _replace_durably(folder / KEYS_FILENAME, document)

    # -- changing ------------------------------------------------------------------------------------------
    def current(
        self, seal_key: bytes, vault_salt: bytes, now: datetime, after: int = 0
    ) -> tuple[Epoch, bytes, Epoch | None]:
        """The epoch a backup made ``now`` goes under, and its secret; a new epoch is begun first when there is
        none or the current one is older than :data:`EPOCH_LENGTH` (third value: the epoch begun here, if any).
        ``after``: the highest epoch the trail records; a new one is numbered above it (see :meth:`_begin`)."""
        contents = self._read() if self.exists() else _Contents(vault_salt.hex(), (), {})
        held = self._open(contents, seal_key) if contents.epochs else {}
        live = [epoch for epoch in contents.epochs if epoch.state == "current"]
        if live and now - parse_utc(live[-1].began) < EPOCH_LENGTH:
            return live[-1], held[live[-1].n], None
        contents, held, begun = self._begin(contents, held, now, after)
        self._write(contents, held, [seal_key])
        return begun, held[begun.n], begun

    def rotate(self, seal_key: bytes, vault_salt: bytes, now: datetime, after: int = 0) -> Epoch:
        """Begin a new epoch now; the current one is retired (its backups still open until it is destroyed)."""
        contents = self._read() if self.exists() else _Contents(vault_salt.hex(), (), {})
        held = self._open(contents, seal_key) if contents.epochs else {}
        contents, held, begun = self._begin(contents, held, now, after)
        self._write(contents, held, [seal_key])
        return begun

    def destroy(self, seal_key: bytes, n: int, now: datetime) -> Epoch:
        """Remove epoch ``n``'s secret for good. The current epoch is refused: rotate first, so that the next
        backup has a key."""
        contents = self._read()
        held = self._open(contents, seal_key)
        found = {epoch.n: epoch for epoch in contents.epochs}.get(n)
        if found is None:
            raise BackupKeyError(f"There is no backup key epoch {n}.")
        if found.destroyed:
            raise BackupKeyError(f"Backup key epoch {n} was already destroyed on {found.destroyed}.")
        if found.state == "current":
            raise BackupKeyError(f"Backup key epoch {n} is the current one: begin a new epoch first (rotate).")
        gone = replace(found, destroyed=iso_utc(now))
        epochs = tuple(gone if epoch.n == n else epoch for epoch in contents.epochs)
        held.pop(n, None)
        self._write(replace(contents, epochs=epochs), held, [seal_key])
        return gone

    def add_seal(self, seal_key: bytes, new_seal_key: bytes) -> None:
        """Seal the secrets under ``new_seal_key`` too (before the vault is re-encrypted under a new key)."""
        if not self.exists():
            return
        contents = self._read()
        self._write(contents, self._open(contents, seal_key), [seal_key, new_seal_key])

    def keep_seal(self, seal_key: bytes, was: bytes | None = None) -> None:
        """Keep only the seal under ``seal_key`` (the key the vault is under now). ``was``: the key it was under
        before; the file is opened with it when the seal under ``seal_key`` is gone (another process changed the
        file between :meth:`add_seal` and the rekey, sealing it under the key it had, the old one)."""
        if not self.exists():
            return
        contents = self._read()
        try:
            held = self._open(contents, seal_key)
        except SealMismatch:
            if was is None:
                raise
            held = self._open(contents, was)
        self._write(contents, held, [seal_key])

    def drop_earlier_seals(self, seal_key: bytes) -> bool:
        """Keep only the seal under ``seal_key`` when it is the newest of several: a passphrase change killed after
        the rekey left the seal under the old key, which opened every backup with the old (perhaps leaked)
        passphrase until the next write. A seal added after ours (:meth:`add_seal`: the new key's, the vault not
        yet re-keyed or the change refused) is left for the change to settle. Returns whether one was dropped."""
        if not self.exists():
            return False
        contents = self._read()
        named = list(contents.seals)
        if len(named) < 2 or named[-1] != _key_id(seal_key):
            return False
        self._write(contents, self._open(contents, seal_key), [seal_key])
        return True

    # -- the file ------------------------------------------------------------------------------------------
    @staticmethod
    def _begin(
        contents: _Contents, held: dict[int, bytes], now: datetime, after: int = 0
    ) -> tuple[_Contents, dict[int, bytes], Epoch]:
        """A new epoch numbered above every one the file lists and every one the trail records (``after``): a number
        names one secret for good, so a file begun anew (the old one lost) never gives an old backup's number to
        another key, which would count that backup as opening under it."""
        at = iso_utc(now)
        epochs = tuple(replace(e, retired=at) if e.state == "current" else e for e in contents.epochs)
        begun = Epoch(max([after, *(e.n for e in epochs)]) + 1, at)
        return replace(contents, epochs=(*epochs, begun)), {**held, begun.n: secrets.token_bytes(SECRET_BYTES)}, begun

    def _read(self) -> _Contents:
        if self.path.is_symlink():  # see _replace_durably: a link's target would outlive a destruction
            raise BackupKeyError(f"The backup keys file {self.path.name} is a symbolic link; Custos keeps it as a "
                                 "file of its own in the data folder. Put the file itself there.")  # fmt: skip
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("format")
            epochs = tuple(_epoch(epoch) for epoch in data["epochs"])
            seals = data["seals"]
            if not isinstance(data["vault_salt"], str) or not isinstance(seals, dict):
                raise ValueError("types")
            bytes.fromhex(data["vault_salt"])
            return _Contents(data["vault_salt"], epochs, {str(k): str(v) for k, v in seals.items()})
        except FileNotFoundError:
            raise BackupKeyError(f"The backup keys file {self.path.name} is missing.") from None
        except PermissionError:
            raise BackupKeyError(f"The backup keys file {self.path.name} cannot be read (permission denied).") from None
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            raise BackupKeyError(f"The backup keys file {self.path.name} is damaged.") from None

    @staticmethod
    def _aad(contents: _Contents) -> bytes:
        return canonical({"format": FORMAT, "vault_salt": contents.vault_salt,
                          "epochs": [asdict(epoch) for epoch in contents.epochs]})  # fmt: skip

    def _open(self, contents: _Contents, seal_key: bytes) -> dict[int, bytes]:
        sealed = contents.seals.get(_key_id(seal_key))
        if sealed is None:
            raise SealMismatch(f"The backup keys file {self.path.name} does not open with this vault's key.")
        try:
            raw = bytes.fromhex(sealed)
            plain = AESGCM(seal_key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(contents))
        except (ValueError, InvalidTag):
            raise BackupKeyError(f"The backup keys file {self.path.name} has been altered or damaged.") from None
        return {int(n): bytes.fromhex(secret) for n, secret in json.loads(plain).items()}

    def _write(self, contents: _Contents, held: dict[int, bytes], seal_keys: list[bytes]) -> None:
        plain = json.dumps({str(n): secret.hex() for n, secret in sorted(held.items())}).encode()
        seals = {}
        for key in seal_keys:
            nonce = secrets.token_bytes(NONCE_BYTES)
            seals[_key_id(key)] = (nonce + AESGCM(key).encrypt(nonce, plain, self._aad(contents))).hex()
        _replace_durably(self.path, _document(contents, seals))


def _epoch(item: object) -> Epoch:
    """One epoch as the file lists it, its fields checked: the list is read (health, ``backup-keys list``) where
    no seal is opened, and a wrong type there is a damaged file, not a traceback further on."""
    if not isinstance(item, dict):
        raise ValueError("epoch")
    epoch = Epoch(**item)
    if type(epoch.n) is not int or epoch.n < 1 or not isinstance(epoch.began, str):
        raise ValueError("epoch")
    for moment in (epoch.began, epoch.retired, epoch.destroyed):
        if moment is not None:
            parse_utc(moment)  # ValueError (not text in the trail's form) or TypeError (not text)
    return epoch


def _document(contents: _Contents, seals: dict[str, str]) -> bytes:
    document = {"format": FORMAT, "vault_salt": contents.vault_salt,
                "epochs": [asdict(epoch) for epoch in contents.epochs], "seals": seals}  # fmt: skip
    return (json.dumps(document, indent=1) + "\n").encode()


def _key_id(seal_key: bytes) -> str:
    """Names the key a seal is under without revealing it, so the right seal is found without trying each."""
    return subkey(seal_key, _KEY_ID_LABEL)[:8].hex()


def _replace_durably(path: Path, data: bytes) -> None:
    """Write a new version beside the file (0600 from the first byte), fsync it, and rename it into place: a crash
    leaves the old version or the new one, never half of one."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:  # a directory planted at the .partial, a full disk, a read-only folder: said, no traceback
        raise BackupKeyError(f"The backup keys file {path.name} cannot be written in {path.parent} "
                             f"({exc.strerror or type(exc).__name__}).") from None  # fmt: skip
