"""Files written into a folder the operator names: never through a link found there, nothing left half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.documents.private import private, staged_into


def test_a_link_under_a_written_name_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("someone else's file\n")
    victim.chmod(0o644)
    out = tmp_path / "out"
    out.mkdir()
    (out / "letter.md").symlink_to(victim)
    with staged_into(out) as staging:
        private(staging / "letter.md").write_text("the letter\n")
    assert victim.read_text() == "someone else's file\n" and victim.stat().st_mode & 0o777 == 0o644
    assert not (out / "letter.md").is_symlink() and (out / "letter.md").read_text() == "the letter\n"
    assert (out / "letter.md").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in out.iterdir()] == ["letter.md"]  # the staging folder is gone


def test_a_failure_half_way_leaves_nothing_and_keeps_what_was_there(tmp_path: Path) -> None:
    (tmp_path / "letter.md").write_text("the earlier letter\n")
    with pytest.raises(RuntimeError), staged_into(tmp_path) as staging:
        (staging / "letter.md").write_text("half of the new one")
        raise RuntimeError("the PDF could not be made")
    assert [p.name for p in tmp_path.iterdir()] == ["letter.md"]
    assert (tmp_path / "letter.md").read_text() == "the earlier letter\n"
