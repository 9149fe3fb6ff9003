"""A written file's suffix says what it holds. Before: ``export ropa --format cnil --out r.xlsx`` wrote ODS bytes
as ``r.xlsx`` (and CSV as ``.xlsx``, XLSX as ``.csv``, PDF as ``.csv``; the registers and the audit timeline the
same), which Excel and LibreOffice failed to open though the command said ``Wrote``. Now the command refuses before
the vault is unlocked, naming the suffix the format writes; the app's dialogs (the same services) refuse too."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.services.audit import EventFilter, export_timeline
from app.services.export import export_ropa
from app.services.registers import export_requests
from app.store.vault import Vault
from tests.cli.inprocess import run


@pytest.mark.parametrize(
    ("args", "written_as", "named"),
    [
        (("export", "ropa", "--format", "cnil"), "ods", "r.xlsx"),
        (("export", "ropa", "--format", "csv"), "csv", "r.xlsx"),
        (("export", "ropa", "--format", "pdf"), "pdf", "r.csv"),
        (("export", "ropa", "--format", "xlsx"), "xlsx", "r.ODS"),
        (("dsr", "export", "--format", "csv"), "csv", "d.xlsx"),
        (("breach", "export", "--format", "xlsx"), "xlsx", "b.csv"),
        (("audit", "timeline", "--format", "xlsx"), "xlsx", "t.csv"),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("vault_file")
def test_a_format_under_another_format_s_suffix_is_refused(
    data_dir: Path, tmp_path: Path, args: tuple[str, ...], written_as: str, named: str
) -> None:
    out = tmp_path / named
    done = run(data_dir, *args, "--out", str(out))
    assert done.returncode == 2, done.stdout + done.stderr
    suffix = out.suffix.lower()
    assert f"writes {written_as.upper()}: give --out a name ending in .{written_as}, not {suffix}" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists() and list(tmp_path.iterdir()) == [data_dir]


@pytest.mark.usefixtures("vault_file")
def test_the_suffix_the_format_writes_or_one_naming_no_format_is_written(data_dir: Path, tmp_path: Path) -> None:
    cnil = tmp_path / "r.ods"
    assert run(data_dir, "export", "ropa", "--format", "cnil", "--out", str(cnil)).returncode == 0
    assert zipfile.ZipFile(cnil).read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    plain = tmp_path / "r.txt"  # a suffix naming no document format is taken as given
    assert run(data_dir, "export", "ropa", "--format", "csv", "--out", str(plain)).returncode == 0
    assert plain.read_bytes().startswith(b"\xef\xbb\xbf")  # CSV as written (UTF-8 with its BOM)
    bare = tmp_path / "register"
    assert run(data_dir, "dsr", "export", "--format", "xlsx", "--out", str(bare)).returncode == 0
    assert zipfile.is_zipfile(bare)


def test_the_services_the_app_calls_refuse_too(vault: Vault, tmp_path: Path) -> None:
    """The app's export dialogs take a typed path: the same refusal, in words without a command-line flag."""
    attempts = [
        lambda: export_ropa(vault, "cnil", tmp_path / "r.xlsx", "controller", "alice"),
        lambda: export_requests(vault, "csv", tmp_path / "d.xlsx", "alice"),
        lambda: export_timeline(vault, "xlsx", tmp_path / "t.csv", "alice", where=EventFilter()),
    ]
    for attempt in attempts:
        with pytest.raises(ConfigError, match=r"^This export writes [A-Z]+: give it a name ending in \.[a-z]+, not "):
            attempt()
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


@pytest.mark.usefixtures("vault_file")
def test_a_siem_export_is_refused_under_a_name_that_is_never_text(data_dir: Path, tmp_path: Path) -> None:
    """CEF and OCSF lines have no one suffix of their own (.cef, .log, .jsonl, .txt): only a name whose format is
    never text (a spreadsheet, a PDF, an archive) is refused. Before: OCSF lines were written as ``s.xlsx``."""
    refused = run(data_dir, "siem", "export", "--format", "ocsf", "--out", str(tmp_path / "s.xlsx"))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "OCSF is written as lines of text: give the file a name ending in .jsonl, not .xlsx." in refused.stderr
    assert not (tmp_path / "s.xlsx").exists()
    for name in ("s.cef", "s.log", "s.jsonl"):
        assert run(data_dir, "siem", "export", "--format", "cef", "--out", str(tmp_path / name)).returncode == 0
