"""What the command line prints about a file it wrote or refused: the name the operator gave, its control
characters shown as escapes. A newline in a name made a second line a script reads as ``Wrote …``; an ESC
sequence recoloured or cleared the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.inprocess import run

NAME = "ropa\nWrote forged.csv (sha256 0)\x1b[2J\x07.csv"


@pytest.mark.usefixtures("vault_file")
def test_a_written_file_s_name_is_printed_with_its_controls_escaped(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / NAME
    done = run(data_dir, "export", "ropa", "--format", "csv", "--out", str(out))
    assert done.returncode == 0 and out.exists()
    wrote = [line for line in done.stdout.splitlines() if line.startswith("Wrote ")]
    assert len(wrote) == 1, done.stdout  # before: two "Wrote" lines, the second forged
    assert wrote[0].startswith(f"Wrote {tmp_path}/ropa\\nWrote forged.csv (sha256 0)\\x1b[2J\\x07.csv (sha256 ")
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout


@pytest.mark.usefixtures("vault_file")
def test_a_refusal_names_the_file_with_its_controls_escaped(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing\x1b]0;owned\x07" / "ropa.csv"
    done = run(data_dir, "export", "ropa", "--format", "csv", "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.strip() == f"custos: The folder {tmp_path}/missing\\x1b]0;owned\\x07 does not exist."


@pytest.mark.usefixtures("vault_file")
def test_an_operator_name_with_a_line_break_is_refused_before_anything_is_recorded(
    data_dir: Path, tmp_path: Path
) -> None:
    """``--operator`` became the actor of the entries the command wrote, newline and ESC included: `audit tail`
    printed them, and the XLSX timeline of that trail could no longer be written."""
    done = run(data_dir, "export", "ropa", "--format", "csv", "--out", str(tmp_path / "r.csv"),
               "--operator", "dpo\nforged\x1b[2J")  # fmt: skip
    assert done.returncode == 2 and "one line of printable characters" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.csv").exists()
    trail = run(data_dir, "audit", "tail", "-n", "100").stdout
    assert "export.ropa" not in trail and "forged" not in trail and "\x1b" not in trail
