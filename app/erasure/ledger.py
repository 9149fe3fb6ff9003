"""The erasure ledger: a file beside the vault, never inside it, so that restoring an older backup cannot roll
it back. Restore replays every erasure it lists before the restored vault is used (see app/erasure/restore.py).

Each line names a request id, the subject's pseudonym, and ``match``: HMAC-SHA256 of the subject's SCIM id
under the ledger key. The ledger holds no identifier: without the key and a copy of the data that still holds
the id (an old backup), ``match`` links to nobody. The key is a file beside the ledger (mode 0600), not in the
OS keyring: headless servers often have none, and a key kept apart from its ledger could be lost separately.
Neither file is ever put in a backup of the vault (docs/decisions/0010-erasure.md).

Lines are chained: ``mac`` is HMAC(key, previous mac || line), so a removed or edited line is detected.
Appends happen inside the vault's write transaction (BEGIN IMMEDIATE), which serialises writers across
processes, and are fsynced before that transaction deletes anything (write before destroy).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.audit.trail import canonical
from app.core.errors import CustosError

LEDGER_FILENAME = "erasure-ledger.jsonl"
KEY_FILENAME = "erasure-ledger.key"
KEY_BYTES = 32
_GENESIS = "0" * 64
_MATCH_LABEL = b"custos/erasure-ledger/v1/scim-id:"


class LedgerError(CustosError):
    """The ledger is missing its key or has been altered: restoring would risk skipping erasures."""


@dataclass(frozen=True)
class LedgerEntry:
    n: int
    request_id: str
    pseudonym: str
    match: str
    at: str
    mac: str

    def content(self) -> dict[str, object]:
        return {
            "n": self.n,
            "request": self.request_id,
            "pseudonym": self.pseudonym,
            "match": self.match,
            "at": self.at,
        }


class Ledger:
    def __init__(self, folder: Path) -> None:
        self.path = folder / LEDGER_FILENAME
        self.key_path = folder / KEY_FILENAME
        self._key: bytes | None = None

    # -- the key ------------------------------------------------------------------------------------------
    def key(self, create: bool = True) -> bytes:
        if self._key is None:
            if not self.key_path.exists():
                if not create:
                    raise LedgerError(f"The erasure ledger key {self.key_path.name} is missing.")
                self._create_key()
            raw = self.key_path.read_bytes()
            if len(raw) != KEY_BYTES:
                raise LedgerError(f"The erasure ledger key {self.key_path.name} is damaged.")
            self._key = raw
        return self._key

    def _create_key(self) -> None:
        if self.path.exists() and self.path.stat().st_size > 0:
            raise LedgerError("The erasure ledger has entries but its key is missing; restore the key file first.")
        try:
            fd = os.open(self.key_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return  # another process made it meanwhile
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())

    def match_hash(self, resource_id: str) -> str:
        return hmac.new(self.key(), _MATCH_LABEL + resource_id.encode(), hashlib.sha256).hexdigest()

    def _mac(self, previous: str, content: dict[str, object]) -> str:
        return hmac.new(self.key(), bytes.fromhex(previous) + canonical(content), hashlib.sha256).hexdigest()

    # -- writing ------------------------------------------------------------------------------------------
    def append(self, request_id: str, subjects: Iterable[tuple[str, str]], at: str) -> int:
        """Append one line per (pseudonym, SCIM id) and fsync; returns how many were written."""
        self.key()
        previous_n, previous_mac = self._tail()
        lines = []
        for pseudonym, resource_id in subjects:
            previous_n += 1
            content = {
                "n": previous_n,
                "request": request_id,
                "pseudonym": pseudonym,
                "match": self.match_hash(resource_id),
                "at": at,
            }
            previous_mac = self._mac(previous_mac, content)
            lines.append(json.dumps({**content, "mac": previous_mac}, sort_keys=True) + "\n")
        if not lines:
            return 0
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        return len(lines)

    def _tail(self) -> tuple[int, str]:
        """The number and mac of the last complete line; a torn last line (a crash mid-write) is cut off."""
        if not self.path.exists():
            return 0, _GENESIS
        with open(self.path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - 65536)
            handle.seek(start)
            chunk = handle.read()
            if chunk and not chunk.endswith(b"\n"):
                cut = chunk.rfind(b"\n") + 1
                handle.truncate(start + cut)
                chunk = chunk[:cut]
        lines = chunk.splitlines()
        if not lines:
            return 0, _GENESIS
        last = json.loads(lines[-1])
        return int(last["n"]), str(last["mac"])

    # -- reading ------------------------------------------------------------------------------------------
    def entries(self) -> list[LedgerEntry]:
        """Every entry, the chain verified; raises LedgerError if a line was removed, edited or reordered."""
        if not self.path.exists():
            return []
        key_present = self.key_path.exists()
        if not key_present:
            if self.path.stat().st_size == 0:
                return []
            raise LedgerError("The erasure ledger has entries but its key is missing; restore the key file first.")
        found: list[LedgerEntry] = []
        previous = _GENESIS
        with open(self.path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.endswith("\n"):
                    break  # a torn last line: it never committed
                try:
                    raw = json.loads(line)
                    entry = LedgerEntry(
                        int(raw["n"]),
                        str(raw["request"]),
                        str(raw["pseudonym"]),
                        str(raw["match"]),
                        str(raw["at"]),
                        str(raw["mac"]),
                    )
                except (ValueError, KeyError) as exc:
                    raise LedgerError(f"The erasure ledger is damaged at line {number}.") from exc
                expected = self._mac(previous, entry.content())
                if entry.n != number or not hmac.compare_digest(expected, entry.mac):
                    raise LedgerError(f"The erasure ledger was altered at line {number}; nothing was restored.")
                found.append(entry)
                previous = entry.mac
        return found

    def matches(self, resource_ids: Iterable[str]) -> dict[str, LedgerEntry]:
        """The given SCIM ids that the ledger lists as erased, with their entry (the newest if several)."""
        wanted = {entry.match: entry for entry in self.entries()}
        if not wanted:
            return {}
        return {rid: wanted[digest] for rid in resource_ids if (digest := self.match_hash(rid)) in wanted}
