"""A command that uses a vault refuses a folder without one, in one line naming the folder and ``init``, exit 2,
and leaves nothing behind. Before: a mistyped ``--data-dir`` silently got a new empty vault, and ``token list``
answered "no tokens" as if the operator's real vault were empty. Only ``init``, ``serve`` and the app's first run
create a vault (README, Operator guide)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import PASSPHRASE

COMMANDS = [
    ["token", "list"],
    ["token", "create", "--name", "okta"],
    ["token", "revoke", "okta"],
    ["audit", "verify"],
    ["audit", "tail"],
    ["policy", "show"],
    ["policy", "history"],
    ["export", "ropa", "--format", "csv", "--out", "OUT/ropa.csv"],
    ["target", "list"],
    ["breach", "list"],
    ["dsr", "list"],
    ["dsr", "settings", "--country", "DE"],
    ["siem", "status"],
    ["vault", "check"],
    ["vault", "backup", "--out", "OUT/vault.bak"],
    ["erase", "status"],
]


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CUSTOS_DATA_DIR", raising=False)


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], folder: Path) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err  # one line, no traceback
    return lines[0]


@pytest.mark.usefixtures("passphrase")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_mistyped_data_dir_is_refused_and_left_alone(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "OUT").mkdir()
    typo = tmp_path / "custos-dta"
    argv = [part.replace("OUT", str(tmp_path / "OUT")) for part in command]

    line = _refused(capsys, [*argv, "--data-dir", str(typo)], typo)

    assert line.startswith(f"custos: No vault in {typo};") and "'custos init'" in line
    assert not typo.exists()  # before: the folder and an empty vault in it
    assert list((tmp_path / "OUT").iterdir()) == []


@pytest.mark.usefixtures("passphrase")
def test_an_empty_folder_gets_nothing_written_into_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through $CUSTOS_DATA_DIR too; ``dsr settings`` wrote its settings file before it opened the vault."""
    monkeypatch.setenv("CUSTOS_DATA_DIR", str(data_dir))
    for argv in (["dsr", "settings", "--country", "DE"], ["token", "list"]):
        assert _refused(capsys, argv, data_dir).startswith(f"custos: No vault in {data_dir};")
    assert list(data_dir.iterdir()) == []


@pytest.mark.usefixtures("passphrase", "vault_file")
def test_the_vault_that_is_there_still_answers(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "list", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.startswith("NAME ")
