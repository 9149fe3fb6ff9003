"""Can Qt open a window here? Checked before the QApplication exists, because Qt's own answer is an abort.

Without a display (an SSH session, a server) or with the xcb platform plugin's libraries missing (PySide6 6.5+
needs libxcb-cursor0, which stock Ubuntu images lack), creating the QApplication ends the process with
"could not load the Qt platform plugin" and SIGABRT. This module is Qt-free and imports nothing from PySide6, so
``python main.py`` can say instead what is missing, how to install it, and that ``serve`` needs no screen.
"""

from __future__ import annotations

import ctypes.util
import sys
from collections.abc import Callable, Mapping

# The shared libraries Qt's xcb plugin loads, with the Debian/Ubuntu package that ships each.
XCB_LIBRARIES = (
    ("xcb-cursor", "libxcb-cursor0"),
    ("xcb-icccm", "libxcb-icccm4"),
    ("xcb-keysyms", "libxcb-keysyms1"),
    ("xcb-image", "libxcb-image0"),
    ("xcb-render-util", "libxcb-render-util0"),
    ("xkbcommon-x11", "libxkbcommon-x11-0"),
)
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"})
SERVE_HINT = (
    "The SCIM endpoint does not need a screen: run it headless with\n"
    "  CUSTOS_PASSPHRASE=… python main.py serve\n"
    "and set it up with `python main.py init` (see `python main.py --help`)."
)


def display_problem(
    env: Mapping[str, str],
    platform: str = sys.platform,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> str | None:
    """What keeps Qt from opening a window, in words for a terminal; None when nothing is known to."""
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have their platform plugin
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen in HEADLESS_PLATFORMS:
        return None
    wayland = bool(env.get("WAYLAND_DISPLAY")) and (chosen == "wayland" or env.get("XDG_SESSION_TYPE") == "wayland")
    if wayland:
        return None
    if not env.get("DISPLAY"):
        return "Custos cannot open its window: there is no display (DISPLAY and WAYLAND_DISPLAY are not set).\n\n" + (
            "Run it in a desktop session, or over SSH with X forwarding (ssh -X).\n\n" + SERVE_HINT
        )
    missing = [package for library, package in XCB_LIBRARIES if find_library(library) is None]
    if not missing:
        return None
    return (
        "Custos cannot open its window: Qt's X11 (xcb) platform plugin needs libraries that are not installed:\n"
        f"  {', '.join(missing)}\n\n"
        "Install them with\n"
        f"  Debian, Ubuntu:  sudo apt install {' '.join(missing)}\n"
        "  Fedora:          sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image "
        "xcb-util-renderutil libxkbcommon-x11\n"
        "  Arch:            sudo pacman -S xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image "
        "xcb-util-renderutil libxkbcommon-x11\n\n" + SERVE_HINT
    )
