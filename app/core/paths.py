"""Where Custos keeps its files: the user data folder (platformdirs) unless overridden."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from app import APP_NAME
from app.core.errors import ConfigError

DATA_DIR_ENV = "CUSTOS_DATA_DIR"


def chosen_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder the operator chose for the vault, resolved but not created.

    Precedence: explicit ``--data-dir``, then ``CUSTOS_DATA_DIR``, then the platform's user data folder. A command
    that only uses an existing vault reads the place from here: a mistyped ``--data-dir`` must leave no folder
    behind (only ``init``, ``serve`` and the app's first run make one, through :func:`data_dir`).
    """
    chosen = override or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    return Path(chosen).expanduser().resolve()


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the vault, the TLS material and nothing else, created if missing.

    Created with mode 0700 so that other local users cannot even list it. A place that cannot be a folder (a file
    is there, no permission, a read-only disk) is a ConfigError naming the place: the operator chose it, and a
    command must say so in one line rather than end in a traceback.
    """
    path = chosen_data_dir(override)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        reason = "a file is in its place" if isinstance(exc, FileExistsError) else exc.strerror or type(exc).__name__
        raise ConfigError(f"The data folder {path} cannot be used: {reason}.") from None
    return path


def resources_dir() -> Path:
    """``resources/`` both from a source checkout and from a PyInstaller bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def user_guide() -> Path:
    """docs/user-guide.md, shipped in the bundle (packaging/pyinstaller/custos.spec) and read offline."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "docs" / "user-guide.md"
    return Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"
