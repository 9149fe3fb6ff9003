"""``--data-dir`` before the sub-command is honoured: a wrong passphrase must not become a new vault elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import ROOT, run
from tests.conftest import PASSPHRASE


def _main(home: Path, passphrase: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUSTOS_PASSPHRASE": passphrase, "HOME": str(home), "XDG_DATA_HOME": str(home / "share")}
    env.pop("CUSTOS_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.usefixtures("vault_file")
def test_data_dir_before_the_sub_command_is_used(data_dir: Path, tmp_path: Path) -> None:
    assert run(data_dir, "token", "create", "--name", "okta").returncode == 0
    home = tmp_path / "home"
    home.mkdir()

    wrong = _main(home, "not the passphrase", "--data-dir", str(data_dir), "token", "list")
    listed = _main(home, PASSPHRASE, "--data-dir", str(data_dir), "token", "list")
    elsewhere = str(tmp_path / "elsewhere")
    after = _main(home, PASSPHRASE, "--data-dir", elsewhere, "token", "list", "--data-dir", str(data_dir))

    assert wrong.returncode == 2 and "does not unlock this vault" in wrong.stderr
    assert list(home.rglob("*")) == []  # before: a new vault in the default folder, under the wrong passphrase
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("okta ")
    assert after.returncode == 0 and after.stdout.splitlines()[1].startswith("okta ")  # the sub-command's wins
    assert not (tmp_path / "elsewhere").exists()
