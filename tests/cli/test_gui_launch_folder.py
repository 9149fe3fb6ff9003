"""`python main.py` (no command) hands the app the folder it chose without making it: with no vault yet the
first-run assistant makes it at *Set up*, so a first launch cancelled leaves no empty folder behind (it did:
~/.local/share/Custos, although the assistant says nothing is written until the last step)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import cli


def test_the_app_is_started_on_the_chosen_folder_without_making_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "Custos"
    seen: dict[str, object] = {}

    def run_gui(_argv: object, data_dir: str | os.PathLike[str], minimised: bool = False) -> int:
        seen.update(folder=Path(data_dir), existed=Path(data_dir).exists())
        return 1

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # no display check in the way
    monkeypatch.setattr("app.ui.run.main", run_gui)
    assert cli.main(["--data-dir", str(folder)]) == 1
    assert seen == {"folder": folder.resolve(), "existed": False}
    assert not folder.exists()
