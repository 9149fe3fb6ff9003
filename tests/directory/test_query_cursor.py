"""Cursors (app/directory/query.py, RFC 9865): they last the cursorTimeout that /ServiceProviderConfig publishes."""

from __future__ import annotations

import pytest

from app.directory.errors import ScimError
from app.directory.query import CURSOR_TIMEOUT_SECONDS, QueryParams, search
from app.scim.discovery import service_provider_config
from app.scim.service import ScimService
from tests.conftest import new_user

ISSUED = 1_900_000_000.0  # a fixed clock: no test waits an hour


def _first_page(service: ScimService) -> str:
    for n in range(3):
        try:
            service.create("User", new_user(f"cursor-clock-{n}@example.test"))
        except ScimError as exists:  # the module's vault is shared: made by the other test
            assert exists.status == 409
    page = search(
        service.vault, None, "", ("User",), QueryParams(filter='userName sw "cursor-clock-"', count=1, cursor=""),
        clock=lambda: ISSUED,
    )  # fmt: skip
    return str(page["nextCursor"])


def _next(service: ScimService, cursor: str, now: float) -> dict[str, object]:
    params = QueryParams(filter='userName sw "cursor-clock-"', count=1, cursor=cursor)
    return search(service.vault, None, "", ("User",), params, clock=lambda: now)


def test_a_cursor_works_until_its_timeout_then_says_it_expired(service: ScimService) -> None:
    assert service_provider_config("")["pagination"]["cursorTimeout"] == CURSOR_TIMEOUT_SECONDS
    cursor = _first_page(service)
    assert len(_next(service, cursor, ISSUED + CURSOR_TIMEOUT_SECONDS)["Resources"]) == 1  # type: ignore[arg-type]
    with pytest.raises(ScimError) as expired:
        _next(service, cursor, ISSUED + CURSOR_TIMEOUT_SECONDS + 1)
    assert (expired.value.status, expired.value.scim_type) == (400, "expiredCursor")


def test_a_cursor_from_the_future_was_not_written_here(service: ScimService) -> None:
    cursor = _first_page(service)
    with pytest.raises(ScimError) as refused:
        _next(service, cursor, ISSUED - 3600)
    assert refused.value.scim_type == "invalidCursor"
