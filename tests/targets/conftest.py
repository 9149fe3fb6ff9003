"""Independent SCIM servers (the scim2-server package from PyPI) on loopback, as downstream applications."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import PortReservation

# scim2-server as its own command runs it, except that its server binds with SO_REUSEPORT: beside the port's
# reservation in this process (tests/ports.py), which nobody else can bind meanwhile.
_SERVE = (
    "import sys; from scim2_server.testserver import cli; "
    "cli.ThreadingWSGIServer.allow_reuse_port = True; sys.argv[0] = 'scim2-server'; cli.main()"
)


class ScimTarget:
    """A scim2-server process; it can be stopped and started again on the same port (its memory is lost)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._reservation = PortReservation()  # held while this object lives: across stop/start too
        self.port = self._reservation.port
        self.token = f"token-{name}-secret"
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: httpx.Client | None = None  # for users()/groups(), which tests poll every 50 ms

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SERVE,
                "--port",
                str(self._reservation.port),
                "--bearer-token",
                self.token,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        with self.client() as http:  # one client: making one costs 20 ms of CPU (its TLS context), each poll
            while time.monotonic() < deadline:  # took that from the server starting up
                if self.process.poll() is not None:
                    break  # it exited: it could not start, and waiting longer changes nothing
                try:
                    if http.get("/ServiceProviderConfig").status_code == 200:
                        return
                except httpx.HTTPError:
                    time.sleep(0.05)
        raise RuntimeError(f"scim2-server {self.name} did not start")

    def stop(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def _read(self, path: str) -> list[dict[str, Any]]:
        """One client kept for reading: a new one per poll cost 20 ms of CPU (its TLS context), taken from the
        dispatcher the test is waiting for."""
        if self._reader is None:
            self._reader = self.client()
        return list(self._reader.get(path, params={"count": 1000}).json().get("Resources") or [])

    def users(self) -> list[dict[str, Any]]:
        return self._read("/Users")

    def groups(self) -> list[dict[str, Any]]:
        return self._read("/Groups")


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


@pytest.fixture
def cli_proxied_target(
    tmp_path: Path, data_dir: Path, vault_file: Path, scim_targets: Callable[[int], list[ScimTarget]]
) -> Iterator[tuple[ScimTarget, Any]]:
    """For tests of the ``target`` commands: a vault in ``data_dir`` whose policy (applied by the command line) has
    the recipient app1, and a real scim2-server "app1" behind a fault proxy (not yet added as a target)."""
    from tests.cli.inprocess import run
    from tests.targets.faults import FaultProxy
    from tests.targets.support import policy_with_recipients

    (app1,) = scim_targets(1)
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients({"app1"}))
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    try:
        yield app1, proxy
    finally:
        proxy.stop()
