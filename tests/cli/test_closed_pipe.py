"""``custos … | head -1``: the reader leaves before the command has printed everything. Was: a BrokenPipeError
traceback on stderr after the command's work was done (a backup written, on the record), read as a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import ROOT
from tests.conftest import PASSPHRASE


def test_a_closed_pipe_ends_the_command_quietly_with_its_work_done(vault_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CUSTOS_PASSPHRASE": PASSPHRASE}
    out = tmp_path / "b.vault"
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        done = subprocess.run(
            [sys.executable, "main.py", "vault", "backup", "--out", str(out), "--data-dir", str(vault_file.parent)],
            cwd=ROOT, env=env, stdout=write, stderr=subprocess.PIPE, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        os.close(write)
    err = done.stderr.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert done.returncode == 141
    assert out.is_file()  # the backup was written all the same
