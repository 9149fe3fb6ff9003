"""Files that may hold personal data are made readable by their owner only (0600) before anything is written into
them: a breach draft or an Art. 34 letter carries the incident's free text, which may identify people.

Files written into a folder the operator names go through :func:`staged_into`: made in a private folder inside it
and renamed into place, so that a link already in the folder under a file's name is replaced, never written
through, and a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def private(path: Path) -> Path:
    """Create or truncate ``path`` as 0600 (an existing file keeps its mode through O_CREAT: set it again)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)
    return path


@contextmanager
def staged_into(out_dir: Path) -> Iterator[Path]:
    """A private (0700) folder inside ``out_dir`` to write files into; each is renamed into ``out_dir`` when the
    block ends without an error, and the folder removed whatever happens.

    Opening ``out_dir / name`` for writing follows a symbolic link found under that name: anyone who could put
    ``incident-1-notification.md -> ~/.bashrc`` into a shared folder had the draft written over (and made 0600)
    the file it named. A rename replaces the link itself. The staging folder is on the same file system (the
    rename is atomic) and 0700, so no one else can swap a file in it while it is written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".custos-partial-", dir=out_dir))
    try:
        yield staging
        for name in sorted(os.listdir(staging)):
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
