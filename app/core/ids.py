"""Resource ids: UUIDs whose leading bits are the creation time (the layout of RFC 9562's UUIDv7).

Random (v4) ids scatter inserts across the primary-key and index B-trees, so a growing mirror touches, and
SQLCipher decrypts, a different page for nearly every insert. Time-ordered ids append at the right edge.
They reveal nothing beyond what ``meta.created`` already publishes.
"""

from __future__ import annotations

import os
import time
import uuid


def new_resource_id() -> str:
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))
