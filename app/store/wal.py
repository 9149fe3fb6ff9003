"""Finding damage in a write-ahead log that SQLite itself would silently step over.

SQLite reads a WAL up to the first frame whose checksum or salts do not match and treats the rest as never
written: right for a write torn by a crash (only the tail is affected), wrong for a flipped bit in the middle,
where every transaction after it is dropped without a word when the vault is next opened, and for good once it is
checkpointed. One byte flipped 200 bytes into a WAL left by kill -9 dropped 11 of 50 users that way.

The tell is a frame *after* the break that is intact in itself: its salts are this WAL generation's, and its
checksum follows from the checksum stored in the frame before it. A torn tail has no such frame (stale frames of an
earlier generation carry other salts). Format: https://www.sqlite.org/fileformat2.html#walformat; SQLite offers no
API for it. Pages in the frames stay encrypted: only frame headers and checksums are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24
_MAGIC = (0x377F0682, 0x377F0683)  # the low bit says big-endian checksums


@dataclass(frozen=True)
class WalReport:
    frames: int  # frames SQLite will read (the valid prefix)
    damaged_frame: int | None  # 1-based frame where the valid prefix ends, when frames after it are intact
    frames_after: int  # intact frames of this generation after the damaged one
    commits_after: int  # transactions (commit frames) among them: what SQLite would drop

    @property
    def damaged(self) -> bool:
        return self.damaged_frame is not None


def _checksum(data: bytes, seed: tuple[int, int], big_endian: bool) -> tuple[int, int]:
    s0, s1 = seed
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for index in range(0, len(words), 2):
        s0 = (s0 + words[index] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[index + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def inspect(path: Path) -> WalReport | None:
    """Read ``path`` (a ``-wal`` file) without writing; None when there is no WAL worth reading."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) < HEADER_BYTES:
        return None
    magic, _, page_size, _, salt1, salt2, check1, check2 = struct.unpack(">8I", data[:HEADER_BYTES])
    if magic not in _MAGIC or page_size < 512 or page_size & (page_size - 1):
        return None  # not a WAL SQLite would read at all: it starts afresh, as after a checkpoint
    big_endian = bool(magic & 1)
    if _checksum(data[:24], (0, 0), big_endian) != (check1, check2):
        return None  # a header torn while a new generation began: no frame of that generation was written yet
    size = FRAME_HEADER_BYTES + page_size
    count = (len(data) - HEADER_BYTES) // size
    previous = (check1, check2)  # the checksum stored in the previous frame (the header's for the first)
    valid, broken_at, after, commits = 0, None, 0, 0
    for number in range(1, count + 1):
        start = HEADER_BYTES + (number - 1) * size
        header = data[start : start + FRAME_HEADER_BYTES]
        _, db_size, frame_salt1, frame_salt2, stored1, stored2 = struct.unpack(">6I", header)
        page = data[start + FRAME_HEADER_BYTES : start + size]
        intact = (frame_salt1, frame_salt2) == (salt1, salt2) and _checksum(
            header[:8] + page, previous, big_endian
        ) == (stored1, stored2)
        if broken_at is None and intact:
            valid = number
        elif broken_at is None:
            broken_at = number
        elif intact:
            after += 1
            commits += int(db_size != 0)
        previous = (stored1, stored2)
    return WalReport(valid, broken_at if after else None, after, commits)
