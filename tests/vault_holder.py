"""Another process with the vault open, as `serve` or the app keeps it: what a passphrase change and a restore must
refuse to run under. The holder reads once, says "open", and holds its connections until it is released; released,
it reads again (its pages must still open with the key it has) and prints the count it read."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_HOLDER = """
import sys
from pathlib import Path
from app.store.vault import Vault
vault = Vault.unlock(Path(sys.argv[1]), sys.argv[2])
with vault.read_connection() as conn:
    conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar()
print("open", flush=True)
sys.stdin.readline()
with vault.read_connection() as conn:
    print(conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar(), flush=True)
vault.close()
"""


@contextmanager
def held_elsewhere(data_dir: Path, passphrase: str) -> Iterator[subprocess.Popen[str]]:
    """The vault in ``data_dir`` open in another process for the duration (killed at the end if still running)."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(data_dir), passphrase], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        yield holder
    finally:
        holder.kill()
        holder.wait(30)


def release(holder: subprocess.Popen[str]) -> str:
    """Let the holder read once more and close: what it read (a count), its exit status checked."""
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    read = holder.stdout.readline().strip()
    assert holder.wait(30) == 0
    return read
