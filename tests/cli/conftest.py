"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store.vault import Vault


@pytest.fixture
def folder(vault: Vault) -> Path:
    """The data folder of a fresh vault, closed: the command under test opens it as a user's command would."""
    data_dir = vault.path.parent
    vault.close()
    return data_dir
