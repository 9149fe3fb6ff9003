"""When Qt cannot open a window, `python main.py` says what is missing and how to fix it (issue 14 §7), instead
of Qt's "could not load the Qt platform plugin" and SIGABRT."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.ui.display_check import display_problem

ROOT = Path(__file__).resolve().parents[2]


def test_python_main_without_a_display_explains_and_exits_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["CUSTOS_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr[-2000:]  # not -6 (SIGABRT)
    assert "there is no display" in done.stderr and "python main.py serve" in done.stderr
    assert "qt.qpa" not in done.stderr and "Aborted" not in done.stderr


def test_missing_xcb_cursor_is_named_with_the_package_to_install() -> None:
    present = {"xcb-icccm", "xcb-keysyms", "xcb-image", "xcb-render-util", "xkbcommon-x11"}
    problem = display_problem({"DISPLAY": ":0"}, "linux", lambda name: name if name in present else None)
    assert problem is not None
    assert "libxcb-cursor0" in problem and "sudo apt install libxcb-cursor0" in problem and "serve" in problem
    assert "libxcb-icccm4" not in problem.split("Install")[0]


def test_nothing_to_say_where_qt_can_start() -> None:
    everything = lambda name: name  # noqa: E731
    assert display_problem({"DISPLAY": ":0"}, "linux", everything) is None
    assert display_problem({}, "linux", everything) is not None  # no display at all
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda _name: None) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux") is None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None
