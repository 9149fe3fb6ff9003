"""Three scim2-server processes shared by a test module (each test uses its own userNames), and a stub target."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.erasure.stub import StubTarget
from tests.targets.conftest import ScimTarget


@pytest.fixture(scope="module")
def apps() -> Iterator[list[ScimTarget]]:
    started = [ScimTarget(f"app{index + 1}") for index in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:  # each takes a second or two to import and listen: start them together
            list(pool.map(ScimTarget.start, started))
        yield started
    finally:
        for target in started:
            target.stop()


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget().start()
    yield target
    target.stop()
