"""Three scim2-server processes shared by the erasure tests (each test uses its own userNames), and a stub target.

Shared by the whole session rather than started again for each test module: a start imports scim2-server and
waits for it to listen (one to two seconds each on a quiet machine, several under load), and five modules use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.erasure.proxy import CountingProxy
from tests.erasure.stub import StubTarget
from tests.targets.conftest import ScimTarget


@pytest.fixture(scope="session")
def running_apps() -> Iterator[list[ScimTarget]]:
    started = [ScimTarget(f"app{index + 1}") for index in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:  # each takes a second or two to import and listen: start them together
            list(pool.map(ScimTarget.start, started))
        yield started
    finally:
        for target in started:
            target.stop()


@pytest.fixture
def apps(running_apps: list[ScimTarget]) -> list[ScimTarget]:
    """The shared servers, each running: a test that stops one (a target going away) and fails before starting it
    again must not take the others down with it."""
    for target in running_apps:
        if target.process is None or target.process.poll() is not None:
            target.start()
    return running_apps


@pytest.fixture
def proxy(apps: list[ScimTarget]) -> Iterator[CountingProxy]:
    """A counting proxy in front of the first shared server (tests/erasure/proxy.py)."""
    started = CountingProxy(apps[0].base_url.removesuffix("/v2")).start()
    yield started
    started.stop()


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget().start()
    yield target
    target.stop()
