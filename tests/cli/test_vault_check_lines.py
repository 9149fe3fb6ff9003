"""``vault check`` says what it found, never an empty verdict: a vault whose pages all authenticate but whose file
ends in part of a page printed ``Page authentication: 0 page(s) fail:`` with nothing after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import PASSPHRASE


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)


def _check(capsys: pytest.CaptureFixture[str], data_dir: Path) -> tuple[int, list[str]]:
    code = main(["vault", "check", "--data-dir", str(data_dir)])
    return code, capsys.readouterr().out.splitlines()


def test_a_partial_last_page_is_named_without_a_count_of_nothing(
    vault_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with vault_file.open("ab") as file:
        file.write(bytes(100))  # a copy cut or padded mid-page: SQLCipher reports it, no page fails

    code, lines = _check(capsys, vault_file.parent)

    assert code == 1
    pages = lines.index("Page authentication: no page fails; SQLCipher reports 1 other problem(s):")
    assert "invalid size of 100 bytes" in lines[pages + 1] and lines[pages + 1].startswith("  ")
    assert not any("0 page(s)" in line for line in lines)
    assert lines[-1].startswith("Verdict: damaged.")


def test_an_intact_vault_says_ok(vault_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _check(capsys, vault_file.parent)
    assert code == 0
    assert "Page authentication: ok" in lines and lines[-1] == "Verdict: intact"


def test_a_check_of_a_vault_closed_cleanly_adds_no_file_beside_it(
    vault_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'read-only', yet a check of a closed vault (no WAL) left an empty -wal and a -shm in the folder: in a folder
    handed over as evidence, files the incident responder's check made."""
    before = sorted(item.name for item in vault_file.parent.iterdir())
    assert not any(name.endswith(("-wal", "-shm")) for name in before)

    code, lines = _check(capsys, vault_file.parent)

    assert code == 0 and lines[-1] == "Verdict: intact"
    assert sorted(item.name for item in vault_file.parent.iterdir()) == before
