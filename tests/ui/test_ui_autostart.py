"""Start at login (issue 14 §6): the XDG autostart entry written and removed from Settings, the command it holds
starting this program minimised on the same data folder; the macOS LaunchAgent and the Windows Run value written
by their own small functions (the Run value here into an INI file: there is no registry on this machine)."""

from __future__ import annotations

import configparser
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app import APP_ID, __version__
from app.cli import build_parser
from app.ui import autostart
from app.ui.settings_dialog import SettingsDialog


def exec_arguments(entry: Path) -> list[str]:
    """The Exec key read as a desktop environment does: the string escapes, then the quoting rules."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(entry, encoding="utf-8")
    value = parser["Desktop Entry"]["Exec"].replace("\\\\", "\\")  # the string escape comes first
    arguments, current, quoted, index = [], "", False, 0
    while index < len(value):  # then the quoting rule: inside "…", a backslash escapes " ` $ and itself
        char = value[index]
        if quoted and char == "\\" and value[index + 1 : index + 2] in ('"', "`", "$", "\\"):
            current, index = current + value[index + 1], index + 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == " " and not quoted:
            arguments, current = [*arguments, current], ""
        else:
            current += char
        index += 1
    return [part.replace("%%", "%") for part in [*arguments, current] if part]


def test_the_xdg_entry_honours_xdg_config_home_and_falls_back_to_dot_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert autostart.xdg_autostart_file({"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, home) == (
        tmp_path / "cfg" / "autostart" / f"{APP_ID}.desktop"
    )
    assert autostart.xdg_autostart_file({}, home) == home / ".config" / "autostart" / "eu.custos.Custos.desktop"
    # A relative value is to be ignored (XDG Base Directory Specification).
    assert autostart.xdg_autostart_file({"XDG_CONFIG_HOME": "cfg"}, home).parent.parent == home / ".config"


def test_the_entry_starts_this_program_minimised_on_the_same_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data with spaces $HOME & \"quotes\" 100%"
    entry = tmp_path / "autostart" / f"{APP_ID}.desktop"
    command = autostart.launch_command(data_dir)
    autostart.set_xdg(True, command, entry)
    assert exec_arguments(entry) == command  # spaces, quotes, $ and % survive the desktop's reading
    text = entry.read_text(encoding="utf-8")
    assert f"Icon={APP_ID}" in text and "Type=Application" in text
    packaged = Path(__file__).resolve().parents[2] / "packaging" / "linux" / f"{APP_ID}.desktop"
    assert packaged.is_file()  # the same id as the packaged entry: the same name and icon at login
    arguments = build_parser().parse_args(command[2:] if command[1].endswith("main.py") else command[3:])
    assert arguments.minimised and arguments.data_dir == str(data_dir) and arguments.command is None
    program = command[: command.index("--data-dir")]
    started = subprocess.run([*program, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert started.stdout.strip() == f"Custos {__version__}"  # the program in the entry is this one
    autostart.set_xdg(False, command, entry)
    assert not entry.exists()
    autostart.set_xdg(False, command, entry)  # removing twice is no error


def test_the_launch_agent_and_the_run_value(tmp_path: Path) -> None:
    command = autostart.launch_command(tmp_path / "data")
    agent = autostart.launch_agent_file(tmp_path)
    autostart.set_launch_agent(True, command, agent)
    loaded = plistlib.loads(agent.read_bytes())
    assert loaded == {"Label": APP_ID, "ProgramArguments": command, "RunAtLoad": True, "ProcessType": "Interactive"}
    autostart.set_launch_agent(False, command, agent)
    assert not agent.exists()

    def key() -> QSettings:
        return QSettings(str(tmp_path / "run.ini"), QSettings.Format.IniFormat)

    autostart.set_run_key(True, [r"C:\Program Files\Custos\custos.exe", "--data-dir", r"C:\data", "--minimised"], key)
    assert key().value("Custos") == r'"C:\Program Files\Custos\custos.exe" --data-dir C:\data --minimised'
    assert autostart.run_key_set(key)
    autostart.set_run_key(False, [], key)
    assert not autostart.run_key_set(key)


def test_settings_writes_and_removes_the_entry(
    qtbot: QtBot, data_dir: Path, _private_autostart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    entry = _private_autostart / "autostart" / f"{APP_ID}.desktop"
    dialog = SettingsDialog(data_dir, remembered_key=lambda _d: None)
    qtbot.addWidget(dialog)
    assert not dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(True)
    dialog.accept()
    assert entry.is_file() and exec_arguments(entry)[-3:] == ["--data-dir", str(data_dir), "--minimised"]
    reopened = SettingsDialog(data_dir, remembered_key=lambda _d: None)
    qtbot.addWidget(reopened)
    assert reopened.start_at_login.isChecked()  # read from the entry itself
    entry.unlink()  # removed by hand meanwhile: the dialog does not claim it
    assert not SettingsDialog(data_dir, remembered_key=lambda _d: None).start_at_login.isChecked()


def test_a_folder_that_cannot_be_written_is_said_and_the_dialog_stays(
    qtbot: QtBot, data_dir: Path, _private_autostart: Path
) -> None:
    (_private_autostart / "autostart").write_text("a file where the folder should be")
    dialog = SettingsDialog(data_dir, remembered_key=lambda _d: None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_at_login.setChecked(True)
    dialog.accept()
    assert dialog.isVisible() and dialog.start_note.isVisible()
    assert dialog.start_note.text().startswith("The login entry could not be written")
    assert QApplication.activeModalWidget() is None or QApplication.activeModalWidget() is dialog
