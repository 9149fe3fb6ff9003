"""Start at login: the desktop app starts minimised to the tray when the user logs in.

One small function per platform, behind the same setting (Settings → Start at login):

- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/<app id>.desktop`` (``~/.config`` when the variable
  is unset or not absolute, as the XDG Base Directory spec says), named like the packaged .desktop file so a
  desktop shows the same name and icon.
- Windows: a value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``, written through QSettings'
  native (registry) format.
- macOS: ``~/Library/LaunchAgents/<app id>.plist`` with RunAtLoad.

Whether it is on is read from the platform (the file or the registry value), never from a remembered flag, so the
Settings dialog cannot claim an entry that someone removed. The command starts this same program with the same
data folder and ``--minimised``.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QSettings

from app import APP_ID, APP_NAME

MINIMISED_FLAG = "--minimised"
RUN_KEY = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"


def launch_command(data_dir: Path) -> list[str]:
    """This program, as it runs now, started minimised on ``data_dir``."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle: its executable is the app
        program = [sys.executable]
    else:
        main_py = Path(__file__).resolve().parents[2] / "main.py"  # a source checkout
        program = [sys.executable, str(main_py)] if main_py.is_file() else [sys.executable, "-m", "app"]
    return [*program, "--data-dir", str(data_dir), MINIMISED_FLAG]


# -- Linux / XDG ---------------------------------------------------------------------------------------------
def xdg_autostart_file(environ: Mapping[str, str] = os.environ, home: Path | None = None) -> Path:
    configured = environ.get("XDG_CONFIG_HOME", "")
    base = Path(configured) if configured and os.path.isabs(configured) else (home or Path.home()) / ".config"
    return base / "autostart" / f"{APP_ID}.desktop"


def _exec_quote(argument: str) -> str:
    """One argument of a desktop entry's Exec key (Desktop Entry Specification, "The Exec key")."""
    if argument and not any(ch in argument for ch in ' \t\n"\'\\><~|&;$*?#()`=%'):
        return argument
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in argument).replace("%", "%%")
    return f'"{escaped}"'


def desktop_entry(command: list[str]) -> str:
    # Exec's quoted string is then read as a string value, where a backslash is itself escaped.
    exec_line = " ".join(_exec_quote(part) for part in command).replace("\\", "\\\\")
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        f"Name={APP_NAME}",
        "Comment=Keeps the SCIM endpoint running in the system tray",
        f"Exec={exec_line}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        f"StartupWMClass={APP_NAME}",
        "",
    ])  # fmt: skip


def set_xdg(enabled: bool, command: list[str], path: Path) -> None:
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".desktop.tmp")
    temporary.write_text(desktop_entry(command), encoding="utf-8")
    temporary.replace(path)  # a half-written entry is never read at login


# -- macOS ---------------------------------------------------------------------------------------------------
def launch_agent_file(home: Path | None = None) -> Path:
    return (home or Path.home()) / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def set_launch_agent(enabled: bool, command: list[str], path: Path) -> None:
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    agent = {"Label": APP_ID, "ProgramArguments": command, "RunAtLoad": True, "ProcessType": "Interactive"}
    path.write_bytes(plistlib.dumps(agent))


# -- Windows -------------------------------------------------------------------------------------------------
def run_key() -> QSettings:
    return QSettings(RUN_KEY, QSettings.Format.NativeFormat)


def windows_command_line(command: list[str]) -> str:
    return " ".join(f'"{part}"' if (" " in part or not part) else part for part in command)


def set_run_key(enabled: bool, command: list[str], key: Callable[[], QSettings] = run_key) -> None:
    settings = key()
    if enabled:
        settings.setValue(APP_NAME, windows_command_line(command))
    else:
        settings.remove(APP_NAME)
    settings.sync()


def run_key_set(key: Callable[[], QSettings] = run_key) -> bool:
    return key().contains(APP_NAME)


# -- the one setting -----------------------------------------------------------------------------------------
def platform_name() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    return "macos" if sys.platform == "darwin" else "xdg"


def is_enabled(platform: str | None = None) -> bool:
    platform = platform or platform_name()
    if platform == "windows":
        return run_key_set()
    return (launch_agent_file() if platform == "macos" else xdg_autostart_file()).is_file()


def set_enabled(enabled: bool, data_dir: Path, platform: str | None = None) -> None:
    """Write or remove the entry (OSError when the folder cannot be written: the caller says so)."""
    platform = platform or platform_name()
    command = launch_command(data_dir)
    if platform == "windows":
        set_run_key(enabled, command)
    elif platform == "macos":
        set_launch_agent(enabled, command, launch_agent_file())
    else:
        set_xdg(enabled, command, xdg_autostart_file())
