"""The data folder: a place that cannot be one is a readable error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.core.paths import data_dir


def test_a_file_in_the_data_folders_place_is_a_config_error(tmp_path: Path) -> None:
    """Before: FileExistsError escaped and `custos --data-dir FILE token list` ended in a traceback."""
    occupied = tmp_path / "notes.txt"
    occupied.write_text("not a folder")

    with pytest.raises(ConfigError, match="cannot be used: a file is in its place"):
        data_dir(occupied)
    with pytest.raises(ConfigError, match="cannot be used"):
        data_dir(occupied / "below")
    assert occupied.read_text() == "not a folder"


def test_an_existing_folder_is_used_as_it_is(tmp_path: Path) -> None:
    assert data_dir(tmp_path) == tmp_path.resolve()
