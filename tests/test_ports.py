"""The tests' stand-in servers hold their loopback ports (tests/ports.py): from the moment a number is handed out,
and between a stop and the next start, no other test or process can take it, and nothing answers there while the
server is down. Picking a free number and closing it again let another process take it first (flaky on CI)."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.erasure.stub import StubTarget
from tests.loopback_app import LoopbackApp
from tests.ports import ephemeral_low
from tests.targets.conftest import ScimTarget
from tests.ui.ui_support import free_port


def _someone_else_binds(port: int) -> None:
    """What another test's server (or any program) does with a number it was given: plain bind, no SO_REUSEPORT."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and http.server do
        other.bind(("127.0.0.1", port))


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _hello(_request: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


def test_a_loopback_app_s_port_is_its_own_before_start_and_between_stop_and_start() -> None:
    served = LoopbackApp(Starlette(routes=[Route("/", _hello)]))
    with pytest.raises(OSError):  # before the first start
        _someone_else_binds(served.port)
    assert _refused(served.port)
    served.start()
    try:
        assert httpx.get(f"http://127.0.0.1:{served.port}/", timeout=5).text == "hello"
    finally:
        served.stop()
    assert _refused(served.port)  # down: refused, not queued
    with pytest.raises(OSError):  # and still ours
        _someone_else_binds(served.port)
    served.start()  # back on the same port
    try:
        assert httpx.get(f"http://127.0.0.1:{served.port}/", timeout=5).text == "hello"
    finally:
        served.stop()


def test_a_stub_target_s_port_cannot_be_taken_before_it_starts() -> None:
    stub = StubTarget()
    with pytest.raises(OSError):
        _someone_else_binds(stub.port)
    stub.start()
    try:
        assert httpx.get(f"{stub.base_url}/Users", timeout=5).status_code == 200
    finally:
        stub.stop()


def test_a_scim2_server_target_holds_its_port_and_restarts_on_it() -> None:
    target = ScimTarget("ports")
    with pytest.raises(OSError):  # between the choice of the number and the subprocess binding it
        _someone_else_binds(target.port)
    target.start()
    try:
        with target.client() as http:
            assert http.get("/ServiceProviderConfig").status_code == 200
        target.stop()
        assert _refused(target.port)
        with pytest.raises(OSError):
            _someone_else_binds(target.port)
        target.start()
        with target.client() as http:
            assert http.get("/ServiceProviderConfig").status_code == 200
    finally:
        target.stop()


def test_a_port_for_the_app_s_own_server_is_never_one_port_0_hands_out() -> None:
    """The app binds the number in its settings itself: it is drawn below the ephemeral range, so no test's port-0
    server or outgoing connection takes it first (tests/ui/ui_support.free_port, used by the UI and CLI tests)."""
    low = ephemeral_low()
    ports = {free_port() for _ in range(20)}
    assert all(port < low for port in ports) and len(ports) > 1
    for port in ports:
        with socket.socket() as server:  # free for the app to bind
            server.bind(("127.0.0.1", port))
