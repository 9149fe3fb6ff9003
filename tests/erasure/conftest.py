"""Three scim2-server processes shared by a test module (each test uses its own userNames), and a stub target."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.erasure.stub import StubTarget
from tests.targets.conftest import ScimTarget


@pytest.fixture(scope="module")
def apps() -> Iterator[list[ScimTarget]]:
    started = []
    try:
        for index in range(3):
            target = ScimTarget(f"app{index + 1}")
            target.start()
            started.append(target)
        yield started
    finally:
        for target in started:
            target.stop()


@pytest.fixture
def stub() -> Iterator[StubTarget]:
    target = StubTarget().start()
    yield target
    target.stop()
