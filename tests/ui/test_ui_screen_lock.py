"""Locking when the desktop's screen locks (app/ui/lock/screensaver.py), on a real D-Bus session bus.

The listener connected with the slot written as plain text, which Qt reads as a SLOT() string and strips of its
first character ("ctive_changed(bool)"): the connection failed and the screen locking never locked Custos. Run
in a child process under ``dbus-run-session`` so that the session bus is its own, whatever the desktop runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtDBus import QDBusConnection, QDBusMessage
from app.ui.lock.screensaver import ScreenLockListener

app = QCoreApplication([])
locked = []
listener = ScreenLockListener(lambda: (locked.append(True), app.quit()))
bus = QDBusConnection.sessionBus()
assert bus.registerService("org.freedesktop.ScreenSaver")  # this process stands in for the desktop's screensaver
signal = QDBusMessage.createSignal("/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", "ActiveChanged")
signal.setArguments([True])
QTimer.singleShot(50, lambda: bus.send(signal))
QTimer.singleShot(5000, app.quit)
app.exec()
print("connected", listener.connected, "locked", bool(locked))
"""


@pytest.mark.skipif(shutil.which("dbus-run-session") is None, reason="no D-Bus session bus tool on this machine")
def test_the_screen_locking_locks_custos() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-4:] == ["connected", "True", "locked", "True"], done.stderr[-2000:]
