"""From the main window: moving the endpoint (after the passphrase) restarts it where asked with the new
certificate, and View → Log shows this session's lines without personal data."""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl
from pathlib import Path

from pytestqt.qtbot import QtBot
from ui_support import PASSPHRASE, answer_passphrase_dialog, free_port

from app.audit.trail import of_kind
from app.core.log_buffer import install_log_capture, uninstall_log_capture
from app.scim.server import ScimServer
from app.setup import endpoint
from app.ui.endpoint_dialog import EndpointDialog
from app.ui.log_view import LogViewDialog
from app.ui.main_window import MainWindow


def served_fingerprint(port: int) -> str:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def test_the_endpoint_moves_after_the_passphrase(
    running: tuple[MainWindow, ScimServer], data_dir: Path, qtbot: QtBot
) -> None:
    window, server = running
    old_fingerprint = window.server_panel.fingerprint.text()
    window.endpoint_action.trigger()
    dialog = window.findChild(EndpointDialog)
    assert dialog is not None and dialog.form.keep.isChecked()
    port = free_port()
    dialog.form.port.setValue(port)
    dialog.form.generate.setChecked(True)
    answer_passphrase_dialog(PASSPHRASE)
    dialog.save()
    qtbot.waitUntil(lambda: server.running and server.port == port, timeout=20_000)
    qtbot.waitUntil(lambda: window.server_panel.url.text() == f"https://127.0.0.1:{port}/scim/v2")
    assert window.server_panel.fingerprint.text() != old_fingerprint
    assert served_fingerprint(port) == "".join(window.server_panel.fingerprint.text().split())
    assert endpoint.load(data_dir).port == port
    with window.vault.read_connection() as conn:
        [event] = of_kind(conn, "endpoint.configured")
    assert event.details["port"] == port


def test_a_refused_move_keeps_the_endpoint_running(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, server = running
    port = server.port
    window.change_endpoint()
    dialog = window.findChild(EndpointDialog)
    assert dialog is not None
    dialog.form.own.setChecked(True)
    dialog.form.cert.path.setText("/nonexistent/cert.pem")
    dialog.form.key.path.setText("/nonexistent/key.pem")
    dialog.save()  # refused before the passphrase is even asked
    assert dialog.error.isVisible() and "not found" in dialog.error.text()
    assert server.running and server.port == port
    dialog.reject()


def test_a_move_to_a_port_already_taken_is_refused_before_anything_stops(
    running: tuple[MainWindow, ScimServer], data_dir: Path, qtbot: QtBot
) -> None:
    window, server = running
    port = server.port
    saved = endpoint.load(data_dir)
    window.change_endpoint()
    dialog = window.findChild(EndpointDialog)
    assert dialog is not None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        dialog.form.port.setValue(taken.getsockname()[1])
        asked: list[str] = []
        dialog.reauthenticate = lambda _parent, action: asked.append(action) or False  # type: ignore[method-assign]
        dialog.save()  # refused before the passphrase is asked: the endpoint was never stopped
        assert dialog.error.isVisible() and "already in use" in dialog.error.text() and not asked
    assert server.running and server.port == port
    assert endpoint.load(data_dir) == saved
    dialog.form.port.setValue(port)  # its own port is not "taken"
    dialog.form.check()
    dialog.reject()


def test_view_log_shows_redacted_lines(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, _server = running
    install_log_capture()  # as application() does at start-up
    try:
        logging.getLogger("app.test").warning("could not reach %s", "subject-0042@example.invalid")
        window.log_action.trigger()
        dialog = window.findChild(LogViewDialog)
        assert dialog is not None
        qtbot.waitUntil(lambda: "could not reach" in dialog.visible_text())
        assert "subject-0042@example.invalid" not in dialog.visible_text()
        dialog.close()
    finally:
        uninstall_log_capture()


def test_overview_follows_the_endpoint_at_once(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, server = running
    assert window.pages.currentWidget() is window.overview_page
    server_field = window.overview_page.fields["server"]
    # sooner than the page's 3-second refresh: the panel tells the window when the endpoint starts or stops
    qtbot.waitUntil(lambda: server_field.text() == f"running at {server.base_url}", timeout=1500)
    window.server_panel.stop()
    qtbot.waitUntil(lambda: server_field.text() == "stopped", timeout=1500)


def test_the_base_url_is_copied_only_while_the_endpoint_runs(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    """Before: stopped, the Base URL read "—" and its Copy button put "—" on the clipboard for the IdP's form."""
    window, server = running
    panel = window.server_panel
    assert panel.copy_url.isEnabled() and panel.url.text() == server.base_url
    panel.stop()
    qtbot.waitUntil(lambda: panel.state.text() == "stopped", timeout=15_000)
    assert panel.url.text() == "—" and not panel.copy_url.isEnabled()
