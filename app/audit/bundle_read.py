"""Reading an evidence bundle for people: its manifest facts and its entries, a page at a time, without a vault.

This only reads. Whether the bundle is intact is ``app.audit.bundle.verify_bundle``'s answer, given beside it;
the facts here are what the files say. Nothing sealed is opened: a bundle carries no keys, so a ``sealed``
detail stays the ciphertext it was exported as, and subjects stay pseudonyms.

The entries are streamed out of the ZIP: reading the facts decompresses entries.jsonl once (about a second per
million entries) to count it and find its first and last times, and ``EntryPages`` holds one page in memory.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import zipfile
import zlib
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.audit.bundle_format import (
    CHECKPOINTS,
    ENTRIES,
    FORMAT,
    MANIFEST,
    PUBLIC_KEY,
    checkpoints_of,
    final_checkpoint,
    read_checkpoint_documents,
    read_manifest,
    read_public_key,
)
from app.audit.checkpoints import Checkpoint, key_id_of
from app.audit.pseudonyms import SEALED, public_details
from app.audit.trail import StoredEvent
from app.core.errors import CustosError

_NEEDED = (MANIFEST, ENTRIES, CHECKPOINTS, PUBLIC_KEY)  # proofs.json and manifest.sig only matter to verification
_CHUNK = 1 << 20
_TEXT_FIELDS = ("at", "kind", "actor", "outcome", "leaf_hash", "chain_hash")
SEALED_NOTE = (
    "Sealed personal data: present, encrypted under the subject's own key. A bundle holds no key, so it stays "
    "sealed here; only the vault it came from can open it (and no one once the subject was erased)."
)


class BundleUnreadable(CustosError):
    """The file is not an evidence bundle Custos can read; the message names the file part that is wrong."""


@dataclass(frozen=True)
class BundleFacts:
    file_name: str
    sha256: str  # of the whole file: what `audit export` printed and recorded on the trail
    log_id: str
    exported: str  # the manifest's "created": when the final checkpoint was signed
    requested_from: str | None  # the export's --from and --to; None: open-ended
    requested_to: str | None
    by_seq: bool  # chosen by sequence numbers (a selection), not by time: requested_from/to are then None
    first_seq: int
    last_seq: int
    entries: int  # as the manifest states
    lines: int  # entries actually present in entries.jsonl
    first_at: str | None  # times of the first and last entry present
    last_at: str | None
    checkpoints: int
    final: Checkpoint  # the one every inclusion proof leads to
    key_id: str  # of the bundled public key (the manifest's claim is checked by verification)


@dataclass(frozen=True)
class BundleContents:
    path: Path
    facts: BundleFacts
    checkpoints: tuple[Checkpoint, ...]

    def entries(self) -> Iterator[StoredEvent]:
        """Every entry in file order (seq order in an intact bundle), read as they are iterated."""
        return _iter_entries(self.path)

    def pages(self) -> EntryPages:
        return EntryPages(self.path)


class EntryPages:
    """The entries in file order, a page per call, from one open reader.

    Made to be called from a worker thread, one call at a time; ``close`` may come from another thread and
    waits for a page being read (a few milliseconds), after which every call returns an empty page.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._reader: Generator[StoredEvent, None, None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def next_page(self, size: int) -> list[StoredEvent]:
        """Up to ``size`` further entries; fewer means the end (the reader is then closed)."""
        with self._lock:
            if self._closed:
                return []
            if self._reader is None:
                self._reader = _iter_entries(self._path)
            try:
                page = list(itertools.islice(self._reader, size))
            except BaseException:
                self._close_locked()
                raise
            if len(page) < size:
                self._close_locked()
            return page

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        self._closed = True
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()  # the generator's with-blocks close the ZIP


def read_bundle(path: Path) -> BundleContents:
    """The facts of the bundle at ``path``; ``BundleUnreadable`` (plain message) if it is not a readable bundle."""
    path = Path(path)
    name = path.name
    with _plain_errors(name):
        with zipfile.ZipFile(path) as archive:
            present = set(archive.namelist())
            for member in _NEEDED:
                if member not in present:
                    raise BundleUnreadable(f"{name} is not a complete evidence bundle: {member} is missing.")
            manifest = _manifest(archive, name)
            key_id = _key_id(archive, name)
            checkpoints = _checkpoints(archive, name)
            lines, first, last = _scan(archive)
        sha256 = _file_sha256(path)
    first_at = _entry(first, 1, name).at if first is not None else None
    last_at = _entry(last, lines, name).at if last is not None else None
    span, counts = manifest["range"], manifest["counts"]
    facts = BundleFacts(
        file_name=name,
        sha256=sha256,
        log_id=_text(manifest, "log_id", name),
        exported=_text(manifest, "created", name),
        requested_from=_optional_text(span, "from", name),
        requested_to=_optional_text(span, "to", name),
        by_seq=span.get("by") == "seq",
        first_seq=_number(span, "first_seq", name),
        last_seq=_number(span, "last_seq", name),
        entries=_number(counts, "entries", name),
        lines=lines,
        first_at=first_at,
        last_at=last_at,
        checkpoints=len(checkpoints),
        final=final_checkpoint(checkpoints),
        key_id=key_id,
    )
    return BundleContents(path, facts, tuple(checkpoints))


def fact_lines(facts: BundleFacts) -> list[tuple[str, str]]:
    """(label, value) pairs for a reader, in the order an incident responder checks them."""
    final = facts.final
    present = (
        f"{facts.lines:,}" if facts.lines == facts.entries else f"{facts.lines:,} (the manifest says {facts.entries:,})"
    )
    if facts.by_seq:
        requested = ("Range requested", f"entries {facts.first_seq:,} to {facts.last_seq:,}, by sequence number")
    else:
        times = f"{facts.requested_from or 'the beginning'} to {facts.requested_to or 'the export'}"
        requested = ("Range requested (UTC)", times)
    return [
        ("Entries", present),
        ("Sequence numbers", f"{facts.first_seq:,} to {facts.last_seq:,}"),
        ("First and last entry (UTC)", f"{facts.first_at or '-'} to {facts.last_at or '-'}"),
        requested,
        ("Exported (UTC)", facts.exported),
        ("Checkpoints", f"{facts.checkpoints:,}"),
        ("Final checkpoint", f"{final.fingerprint} at tree size {final.tree_size:,}, signed {final.time}"),
        ("Signing key id", facts.key_id),
        ("Log id", facts.log_id),
        ("File SHA-256", facts.sha256),
    ]


def detail_text(event: StoredEvent) -> str:
    """One entry as plain text for a detail pane: the fields, the details, and whether a sealed part is there.

    The sealed ciphertext itself is left out: it cannot be read here and is noise next to the details.
    """
    lines = [
        f"Seq: {event.seq}",
        f"Time (UTC): {event.at}",
        f"Event: {event.kind}",
        f"Actor: {event.actor}",
        f"Outcome: {event.outcome}",
        f"Subject (pseudonym): {event.subject or '-'}",
        f"Leaf hash: {event.leaf_hash}",
        "",
        "Details:",
        json.dumps(public_details(event.details), indent=2, sort_keys=True, ensure_ascii=False),
    ]
    if SEALED in event.details:
        lines += ["", SEALED_NOTE]
    return "\n".join(lines)


# -- reading ---------------------------------------------------------------------------------------------
@contextmanager
def _plain_errors(name: str) -> Iterator[None]:
    """Turns what a damaged or foreign file raises into ``BundleUnreadable`` naming the file."""
    try:
        yield
    except CustosError:
        raise
    except FileNotFoundError:
        raise BundleUnreadable(f"There is no file {name} any more.") from None
    except IsADirectoryError:
        raise BundleUnreadable(f"{name} is a folder, not an evidence bundle.") from None
    except PermissionError:
        raise BundleUnreadable(f"{name} cannot be read: permission denied.") from None
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise BundleUnreadable(
            f"{name} is not an evidence bundle: it is not a ZIP file, or the file is damaged."
        ) from None
    except (RuntimeError, NotImplementedError):  # an encrypted member, an unknown compression
        raise BundleUnreadable(
            f"{name} uses a ZIP feature Custos does not read (encryption or an unknown compression)."
        ) from None
    except OSError as exc:
        raise BundleUnreadable(f"{name} cannot be read ({type(exc).__name__}).") from None


def _manifest(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    try:
        _bytes, manifest = read_manifest(archive)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors too
        if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
            raise BundleUnreadable(f"{name} is not a readable evidence bundle: {MANIFEST} is not valid JSON.") from None
        raise BundleUnreadable(f"{name} is not an evidence bundle of a known format ({FORMAT} expected).") from None
    except AttributeError:  # valid JSON, but not an object
        raise BundleUnreadable(f"{name} is not a readable evidence bundle: {MANIFEST} is not a manifest.") from None
    for part in ("range", "counts"):
        if not isinstance(manifest.get(part), dict):
            raise BundleUnreadable(f"{name} is not a readable evidence bundle: {MANIFEST} has no {part!r}.")
    return manifest


def _key_id(archive: zipfile.ZipFile, name: str) -> str:
    try:
        return key_id_of(read_public_key(archive))
    except (ValueError, TypeError):
        raise BundleUnreadable(
            f"{name} is not a readable evidence bundle: {PUBLIC_KEY} is not an Ed25519 public key."
        ) from None


def _checkpoints(archive: zipfile.ZipFile, name: str) -> list[Checkpoint]:
    try:
        checkpoints = checkpoints_of(read_checkpoint_documents(archive))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BundleUnreadable(
            f"{name} is not a readable evidence bundle: {CHECKPOINTS} does not hold signed checkpoints."
        ) from None
    if not checkpoints:
        raise BundleUnreadable(f"{name} is not a readable evidence bundle: {CHECKPOINTS} holds no checkpoint.")
    return checkpoints


def _field_error(name: str, key: str) -> BundleUnreadable:
    return BundleUnreadable(f"{name} is not a readable evidence bundle: {MANIFEST} has no valid {key!r}.")


def _text(mapping: dict[str, Any], key: str, name: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str):
        raise _field_error(name, key)
    return value


def _optional_text(mapping: dict[str, Any], key: str, name: str) -> str | None:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        raise _field_error(name, key)
    return value


def _number(mapping: dict[str, Any], key: str, name: str) -> int:
    value = mapping.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _field_error(name, key)
    return value


def _scan(archive: zipfile.ZipFile) -> tuple[int, bytes | None, bytes | None]:
    """(lines, first line, last line) of entries.jsonl, decompressing it in chunks without splitting it all."""
    with archive.open(ENTRIES) as stream:
        first = stream.readline()
        if not first.strip():
            return 0, None, None
        count, last, pending = 1, first, b""
        while chunk := stream.read(_CHUNK):
            pending += chunk
            cut = pending.rfind(b"\n")
            if cut < 0:
                continue
            complete = pending[:cut]
            count += complete.count(b"\n") + 1
            last = complete[complete.rfind(b"\n") + 1 :]
            pending = pending[cut + 1 :]
        if pending.strip():  # a last line without its newline
            count += 1
            last = pending
    return count, first, last


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _entry(line: bytes, number: int, name: str) -> StoredEvent:
    """One line of entries.jsonl as it was stored; nothing in it is decrypted or changed."""
    try:
        value = json.loads(line)
        event = StoredEvent(
            seq=value["seq"],
            at=value["at"],
            kind=value["kind"],
            actor=value["actor"],
            outcome=value["outcome"],
            subject=value["subject"],
            details=value["details"],
            leaf_hash=value["leaf_hash"],
            chain_hash=value["chain_hash"],
        )
    except (ValueError, KeyError, TypeError):
        event = None
    if (
        event is None
        or not isinstance(event.seq, int)
        or isinstance(event.seq, bool)
        or not all(isinstance(getattr(event, field), str) for field in _TEXT_FIELDS)
        or not (event.subject is None or isinstance(event.subject, str))
        or not isinstance(event.details, dict)
    ):
        raise BundleUnreadable(f"{name}: line {number:,} of {ENTRIES} is not an audit entry.")
    return event


def _iter_entries(path: Path) -> Generator[StoredEvent, None, None]:
    name = path.name
    with _plain_errors(name), zipfile.ZipFile(path) as archive:
        if ENTRIES not in set(archive.namelist()):
            raise BundleUnreadable(f"{name} is not a complete evidence bundle: {ENTRIES} is missing.")
        with archive.open(ENTRIES) as stream:
            for number, line in enumerate(stream, start=1):
                yield _entry(line, number, name)
