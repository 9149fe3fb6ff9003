"""Loopback ports for the tests' stand-in servers, held from the moment a number is handed out.

Picking a number by binding port 0 and closing the socket again, then starting a server on it, leaves a window in
which another test or process (CI runs several on a shared 2-core machine) can take that port: the server then
fails to start, or a test talks to somebody else's server. Here the port stays bound by a *reservation*: a socket
bound with SO_REUSEPORT that never listens. Nobody else can bind the port (a bind without SO_REUSEPORT, e.g. any
``bind(("127.0.0.1", 0))`` or another program's server, is refused; the kernel never hands it out for port 0 or as
an outgoing connection's source port), a connection to it is refused while no server runs (a target "down"), and
our own server binds it beside the reservation with SO_REUSEPORT too, as often as it is started again.
"""

from __future__ import annotations

import random
import socket
import weakref
from pathlib import Path

HOST = "127.0.0.1"
_random = random.SystemRandom()  # a test that seeds `random` must not make two processes draw the same numbers


def _socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((HOST, port))
    except BaseException:
        sock.close()
        raise
    return sock


class PortReservation:
    """A loopback port nobody else can take until ``close`` (or until this object is collected)."""

    def __init__(self, port: int = 0) -> None:
        self._sock = _socket(port)
        self.port: int = self._sock.getsockname()[1]
        weakref.finalize(self, self._sock.close)

    def listening_socket(self, backlog: int = 128) -> socket.socket:
        """A socket listening on the reserved port, for a server in this process (uvicorn's ``sockets=[...]``)."""
        sock = _socket(self.port)
        sock.listen(backlog)
        return sock

    def close(self) -> None:
        self._sock.close()


def ephemeral_low() -> int:
    """Where the system's range for port 0 and outgoing connections starts (Linux's default where unreadable)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_for_a_server_of_its_own() -> int:
    """A free loopback port for a server that binds the number itself and cannot bind beside a reservation (the
    app under test, ``custos serve``): the number is given in its settings.

    It is drawn at random *below* the ephemeral range, which is where a bind to port 0 and an outgoing connection
    take theirs: between this choice and the server's bind, no other test's port-0 server or client can take it,
    as they could a number the kernel had just handed out for port 0. Only a bind to this very number could, and
    such numbers are drawn at random among some ten thousand."""
    high = min(ephemeral_low(), 32768)
    for _ in range(100):
        port = _random.randrange(high - 10_000, high)
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue  # a service of this machine, or another test's: another number
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")
