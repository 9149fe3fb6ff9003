"""Independent SCIM servers (the scim2-server package from PyPI) on loopback, as downstream applications."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScimTarget:
    """A scim2-server process; it can be stopped and started again on the same port (its memory is lost)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.token = f"token-{name}-secret"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scim2_server.testserver.cli",
                "--port",
                str(self.port),
                "--bearer-token",
                self.token,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().get("/ServiceProviderConfig").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"scim2-server {self.name} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def users(self) -> list[dict[str, Any]]:
        with self.client() as http:
            body = http.get("/Users", params={"count": 1000}).json()
        return list(body.get("Resources") or [])

    def groups(self) -> list[dict[str, Any]]:
        with self.client() as http:
            return list(http.get("/Groups", params={"count": 1000}).json().get("Resources") or [])


@pytest.fixture
def scim_targets() -> Iterator[Callable[[int], list[ScimTarget]]]:
    started: list[ScimTarget] = []

    def make(count: int) -> list[ScimTarget]:
        made = [ScimTarget(f"app{index + 1}") for index in range(count)]
        started.extend(made)  # stopped at the end even if one fails to start
        with ThreadPoolExecutor(count) as pool:  # each takes a second or two to import and listen: together
            list(pool.map(ScimTarget.start, made))
        return made

    yield make
    for target in started:
        target.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
