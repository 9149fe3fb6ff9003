"""Writing a PDF from the command line prints what was written, not the font subsetter's working notes.

`breach draft` printed about sixty `INFO fontTools.subset: …` lines per PDF on stderr (glyph names, tables pruned)
around its two `Wrote …` lines; a real process is needed, as the command line configures logging for the process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import run


@pytest.mark.usefixtures("vault_file")
def test_a_breach_draft_says_what_it_wrote_and_no_font_notes(data_dir: Path, tmp_path: Path) -> None:
    assert run(data_dir, "breach", "open", "--title", "Token leak").returncode == 0
    done = run(data_dir, "breach", "draft", "1", "--out", str(tmp_path / "drafts"))
    assert done.returncode == 0, done.stderr
    assert "fontTools" not in done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["Wrote", "Wrote"]
