"""The export use case (app/services/export.py) as the command line runs it: the same staged write as the app's,
so a ``custos export`` that fails while writing leaves no partial file and nothing on the audit trail."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import app.services.export as export_service
from app.audit.tables import AuditEvent
from app.cli import main
from app.exports.recording import sha256_of
from app.store.vault import Vault
from tests.conftest import PASSPHRASE


def _exports_on_trail(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return int(conn.execute(select(func.count()).where(AuditEvent.kind == "export.ropa")).scalar_one())


def test_a_ropa_export_that_fails_while_writing_leaves_nothing(
    vault: Vault, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def disk_full(_record: Any, _fmt: str, path: Path, **_kwargs: Any) -> None:
        path.write_bytes(b"PK\x03\x04 half a workbook")  # what a writer leaves when the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_service, "write", disk_full)
    code = main(["export", "ropa", "--out", str(out_dir / "ropa.xlsx"), "--data-dir", str(data_dir)])
    assert code == 2
    assert "custos: Cannot write " in capsys.readouterr().err
    assert list(out_dir.iterdir()) == []  # neither ropa.xlsx nor a hidden partial file
    reopened = Vault.unlock(data_dir, PASSPHRASE)
    try:
        assert _exports_on_trail(reopened) == 0
    finally:
        reopened.close()


def test_the_command_line_prints_what_the_service_wrote(
    vault: Vault, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "ropa.csv"
    code = main(["export", "ropa", "--out", str(out), "--data-dir", str(data_dir), "--operator", "dpo"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Wrote {out} (sha256 {sha256_of(out)})"
    assert lines[1].startswith("Policy v1 sha256:") and len(lines) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["ropa.csv"]
