"""The identity detail says an attribute sent empty is not recorded, rather than printing a bare "null"."""

from __future__ import annotations

from datetime import UTC, datetime

from app.store.browse import Detail
from app.ui.identities.view import describe


def test_an_empty_attribute_reads_as_not_recorded() -> None:
    moment = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    detail = Detail("u1", "User", {"userName": "u", "title": None}, 1, moment, moment, (), ())
    lines = describe(detail).splitlines()
    assert "title: not recorded (sent empty)" in lines and "title: null" not in lines
