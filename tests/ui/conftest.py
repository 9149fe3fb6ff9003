"""Fixtures for the desktop shell: offscreen Qt, a temporary data folder, an open vault with rows."""

from __future__ import annotations

import os
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, MemoryKeyring, insert_rows, many_users, user_row

from app.core.events import EventBus
from app.core.log_buffer import installed_log_capture, uninstall_log_capture
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.main_thread_gc import collect_on_main_thread
from app.ui.main_window import MainWindow
from tests.conftest import VaultTemplates
from tests.targets.conftest import scim_targets  # noqa: F401 - real SCIM servers as targets, for the erasure UI


@pytest.fixture(autouse=True, scope="session")
def _cycles_collected_on_the_gui_thread(qapp: QApplication) -> None:
    """As the app does (app.ui.main_thread_gc): a cycle of Qt wrappers freed on a pool thread crashes PySide."""
    collect_on_main_thread(qapp)


@pytest.fixture(autouse=True)
def _no_leaked_work(qapp: object) -> Iterator[None]:
    """Every test leaves the pool idle and stops the Python threads it started (e.g. the server's)."""
    before = set(threading.enumerate())
    yield
    assert QThreadPool.globalInstance().waitForDone(15_000)
    # Qt's pooled threads show up as _DummyThread once they have run Python code; they are reused.
    started = [t for t in set(threading.enumerate()) - before if not isinstance(t, threading._DummyThread)]
    assert not [t.name for t in started if t.is_alive()]


@pytest.fixture(autouse=True)
def _process_wide_settings_restored() -> Iterator[None]:
    """A test that runs app.ui.run's main() (or application()) leaves what the app sets once per process: the log
    capture on the root logger (root level lowered to INFO, redacting filters on its handlers) and a 1 ms GIL switch
    interval. Left behind, they reached every later test of the session: tests/core/test_log_buffer.py, run after
    tests/ui, found a capture installed that it had not installed."""
    interval = sys.getswitchinterval()
    captured = installed_log_capture()
    yield
    sys.setswitchinterval(interval)
    if captured is None and installed_log_capture() is not None:
        uninstall_log_capture()


@pytest.fixture(autouse=True)
def _closing_a_window_does_not_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-qt closes every window before the fixtures stop their servers: "Quit with the endpoint running?"
    would wait for an answer forever. The question has its own tests (test_ui_tray.py), which set their own."""
    monkeypatch.setattr("app.ui.main_window.ask", lambda *_args: True)


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """QSettings read and write a folder of this test's own: never the developer's ~/.config, nor another test's.

    QSettings.setPath holds for every QSettings made afterwards, whether or not the QApplication exists yet.
    """
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(folder / "user"))
        QSettings.setPath(settings_format, QSettings.Scope.SystemScope, str(folder / "system"))
    return folder


@pytest.fixture(autouse=True)
def _private_autostart(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Start at login writes under $XDG_CONFIG_HOME/autostart: a folder of this test's own, never the developer's."""
    folder = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def vault(data_dir: Path, vault_templates: VaultTemplates) -> Iterator[Vault]:
    opened = vault_templates.get(PASSPHRASE).open_copy(data_dir)
    yield opened
    QThreadPool.globalInstance().waitForDone()  # workers may still hold sessions
    opened.close()


@pytest.fixture
def populated(vault: Vault) -> Vault:
    insert_rows(vault, many_users(2000))
    return vault


@pytest.fixture
def add_users(vault: Vault) -> Callable[..., list[str]]:
    def add(*names: str) -> list[str]:
        return insert_rows(vault, [user_row(name, name.title(), datetime.now(UTC)) for name in names])

    return add


@pytest.fixture
def running(vault: Vault, data_dir: Path, qtbot: QtBot) -> Iterator[tuple[MainWindow, ScimServer]]:
    """The main window with the real HTTPS server started, as the app runs them."""
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    window.show()
    window.server_panel.start()
    qtbot.waitUntil(lambda: window.server_panel.state.text() == "running", timeout=15_000)
    yield window, server
    window.shutdown()
    server.stop()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
