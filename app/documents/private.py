"""Files that may hold personal data are made readable by their owner only (0600) before anything is written into
them: a breach draft or an Art. 34 letter carries the incident's free text, which may identify people."""

from __future__ import annotations

import os
from pathlib import Path


def private(path: Path) -> Path:
    """Create or truncate ``path`` as 0600 (an existing file keeps its mode through O_CREAT: set it again)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)
    return path
