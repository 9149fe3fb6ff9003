"""A real TLS syslog collector on loopback that parses RFC 5425 octet-counted frames."""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.scim.tls import ensure_self_signed


class Collector:
    def __init__(self, folder: Path) -> None:
        material = ensure_self_signed(folder)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(material.cert_path), str(material.key_path))
        der = ssl.PEM_cert_to_DER_cert(material.cert_path.read_text())
        self.fingerprint = hashlib.sha256(der).hexdigest()
        self.messages: list[str] = []
        self.port = 0
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(5)
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server = server
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._server is not None
        while self._running:
            try:
                raw, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            try:
                with self.context.wrap_socket(raw, server_side=True) as tls:
                    self._read_frames(tls)
            except (ssl.SSLError, OSError):
                pass

    def _read_frames(self, tls: ssl.SSLSocket) -> None:
        buffer = b""
        tls.settimeout(0.2)
        while self._running:
            try:
                chunk = tls.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            buffer += chunk
            while b" " in buffer:
                length_text, _, rest = buffer.partition(b" ")
                length = int(length_text)
                if len(rest) < length:
                    break
                self.messages.append(rest[:length].decode("utf-8"))
                buffer = rest[length:]

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            self._server.close()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    (tmp_path / "collector").mkdir()
    running = Collector(tmp_path / "collector")
    running.start()
    yield running
    running.stop()
