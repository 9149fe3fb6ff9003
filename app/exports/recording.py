"""What every export does around the file it writes, for the command line and the app alike: read the policy in
force (installing the shipped default on the record if there is none) and put the written file on the audit
trail — format, SHA-256, policy version, never its content — in the transaction that read that policy."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.audit.trail import Event, append
from app.core.errors import ConfigError
from app.core.file_suffix import other_suffix_refusal
from app.policy.in_force import install_default_if_missing
from app.policy.versions import PolicyRecord, in_force


def refuse_other_suffix(out: Path, suffix: str) -> None:
    """Refuse a file name ending in another document format's suffix than the ``suffix`` written (see
    app/core/file_suffix.py), before anything is read or written."""
    refusal = other_suffix_refusal(out, suffix, "This export", "it")
    if refusal is not None:
        raise ConfigError(refusal)


def policy_for_export(conn: Connection) -> PolicyRecord:
    """The version in force; a vault without one gets the shipped default, on the record."""
    return in_force(conn) or install_default_if_missing(conn)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def record_written(
    conn: Connection, kind: str, operator: str, path: Path, version: int, fmt: str = "", **extra: str
) -> str:
    """Put the written file on the audit trail as ``operator:<operator>``; returns its SHA-256."""
    sha = sha256_of(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    details: dict[str, Any] = {"format": fmt, "sha256": sha, "policy_version": version}
    subject = extra.pop("subject", None)
    details.update(extra)
    append(conn, Event(kind, f"operator:{operator}", subject=subject, details=details))
    return sha


class Staged:
    """An export written under a hidden name beside ``out`` (same file system, so the move is atomic; the suffix
    kept, which some writers go by), put in place only inside the transaction that records it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.partial = out.with_name(f".{out.stem}.partial-{secrets.token_hex(4)}{out.suffix}")
        self.placed = False

    def place(self) -> None:
        try:
            os.replace(self.partial, self.out)
        except OSError as exc:
            raise ConfigError(f"Cannot write {self.out}: {exc.strerror or type(exc).__name__}.") from exc
        self.placed = True


@contextmanager
def staged(out: Path) -> Iterator[Staged]:
    """All or nothing: a Ctrl-C, a full disk or a failed read leaves neither a half-written file nor an emptied one
    where an earlier export was, and a file placed whose record then failed to commit is taken away again."""
    staging = Staged(out)
    try:
        yield staging
    except BaseException:
        if staging.placed:  # in place but not on the trail (the commit failed): not an export to keep
            out.unlink(missing_ok=True)
        raise
    finally:
        staging.partial.unlink(missing_ok=True)
