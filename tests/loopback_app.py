"""An ASGI app served by uvicorn on 127.0.0.1 in a thread: how the tests' stand-in targets and proxies run."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from tests.ports import PortReservation


class LoopbackApp:
    """Started and stopped at will (a target going down and coming back on the same port).

    Its port is held from construction on (tests/ports.py): ``port`` 0 takes one the system chooses, read back in
    ``self.port``. uvicorn is handed a socket already listening on it instead of a number to bind, so no other
    process can take the port between the choice and the start, nor between a ``stop`` and the next ``start``."""

    def __init__(self, app: Any, port: int = 0, tls: tuple[Path | str, Path | str] | None = None) -> None:
        self._app, self._tls = app, tls
        self._reservation = PortReservation(port)
        self.port = self._reservation.port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve, and return once the port accepts connections (at most 10 s)."""
        certificate, key = self._tls or (None, None)
        config = uvicorn.Config(self._app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off",
                                ssl_certfile=certificate, ssl_keyfile=key)  # fmt: skip
        self._server = uvicorn.Server(config)
        sockets = [self._reservation.listening_socket()]  # closed by uvicorn when it stops
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        """Close the port: connections are refused until ``start`` (the port stays reserved for it)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(5)
        self._server = self._thread = None
