"""Damaging real vault files the way a bad disk or a broken copy does: one flipped byte in a chosen page."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

from app.store import engine

PAGE = 4096
RESERVE = 80  # per page: IV (16 bytes) then HMAC-SHA512 (64 bytes), at the end of the page


def flip(path: Path, offset: int) -> None:
    """XOR one byte at ``offset`` (negative: from the end of the file)."""
    size = path.stat().st_size
    position = size + offset if offset < 0 else offset
    with open(path, "r+b") as handle:
        handle.seek(position)
        byte = handle.read(1)
        handle.seek(position)
        handle.write(bytes([byte[0] ^ 0x01]))


def in_page(page: int, at: int = 100) -> int:
    """The file offset of byte ``at`` of page ``page`` (1-based); page 1 starts with the 16-byte salt."""
    return (page - 1) * PAGE + at


def pages(path: Path) -> int:
    return path.stat().st_size // PAGE


def page_read_only_by(path: Path, raw_key: bytes, salt: bytes, damaged_query: str, intact_queries: list[str]) -> int:
    """A page whose damage breaks ``damaged_query`` while ``intact_queries`` still work, found by flipping each page
    of a scratch copy in turn (last pages first) and querying it on an immutable handle."""
    scratch = path.with_name(path.name + ".scratch")
    try:
        for page in range(pages(path), 1, -1):
            shutil.copyfile(path, scratch)
            flip(scratch, in_page(page))
            if _fails(scratch, raw_key, salt, damaged_query) and not any(
                _fails(scratch, raw_key, salt, query) for query in intact_queries
            ):
                return page
    finally:
        scratch.unlink(missing_ok=True)
    raise AssertionError("no page found")


def _fails(path: Path, raw_key: bytes, salt: bytes, query: str) -> bool:
    connection = sqlcipher.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")
        connection.execute(engine.raw_key_pragma(raw_key, salt))
        connection.execute(query).fetchall()
        return False
    except sqlcipher.DatabaseError:
        return True
    finally:
        connection.close()
