"""A file a command is to verify or open that cannot be read is a usage error (exit 2, one line), never a verdict.
Before: a mistyped path printed 'Evidence bundle BROKEN: not a readable ZIP file (FileNotFoundError)' or
'INVALID: the file is not readable JSON' (exit 1), which reads as tampering."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "verify-bundle"],
        ["audit", "view-bundle"],
        ["erase", "verify-receipt"],
    ],
)
def test_a_missing_file_is_not_called_broken(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "evidence.zip"

    assert main([*argv, str(missing)]) == 2
    assert main([*argv, str(tmp_path)]) == 2  # a folder

    err = capsys.readouterr().err
    assert f"Cannot read {missing}: No such file or directory." in err and "Is a directory" in err
    assert "BROKEN" not in err and "INVALID" not in err


def test_a_missing_public_key_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receipt = tmp_path / "receipt.json"
    receipt.write_text("{}")

    assert main(["erase", "verify-receipt", str(receipt), "--public-key", str(tmp_path / "key.pem")]) == 2
    assert "Cannot read" in capsys.readouterr().err


def test_a_file_that_is_no_bundle_still_gets_its_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "notes.zip"
    other.write_text("not a zip")

    assert main(["audit", "verify-bundle", str(other)]) == 1
    assert "Evidence bundle BROKEN: not a readable ZIP file" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["audit", "verify-bundle"], ["erase", "verify-receipt"], ["policy", "validate"]],
)
def test_a_fifo_or_a_device_is_refused_not_waited_on(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Opening a FIFO waits for a writer forever (the command hung); /dev/zero reads without an end."""
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)

    assert main([*argv, str(fifo)]) == 2
    assert main([*argv, "/dev/zero"]) == 2

    err = capsys.readouterr().err
    assert f"Cannot read {fifo}: not a file." in err and "Cannot read /dev/zero: not a file." in err
