"""Erasure while a target is down (connection refused), then back. While it is down the receipt says the request
is open and the step failed and retrying, with no confirmation; once it is back the step completes and a receipt
issued then says what happened there, truthfully: a DELETE that never left is not "an outcome unknown", so the
target is not read first, and a target that came back without the account is "already absent", not erased."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.erasure.receipt import export
from app.erasure.requests import request_erasure
from app.erasure.status import request_status
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from tests.erasure.support import FakeClock, held_at_target
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy


def _receipt(vault: Vault, request_id: str, out: Path) -> dict[str, object]:
    return dict(json.loads(export(vault, request_id, out).json_path.read_text()))


def _step(receipt: dict[str, object]) -> dict[str, object]:
    (step,) = receipt["subjects"][0]["targets"]  # type: ignore[index]
    return dict(step)


def test_down_then_back_with_the_account(vault: Vault, apps: list[ScimTarget], tmp_path: Path) -> None:
    app1 = apps[0]
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    try:
        rid, _ = held_at_target(vault, app1, "down-1@example.test", proxy.base_url)
        proxy.stop()
        clock = FakeClock()
        requested = clock()
        request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=requested)
        ErasureWorker(vault, clock=clock).tick()

        down = _receipt(vault, request_id, tmp_path / "down")
        step = _step(down)
        assert down["request"]["state"] == "open" and down["request"]["closed"] is None  # type: ignore[index]
        assert (step["state"], step["outcome"], step["confirmed"], step["closed"]) == (
            "failed", "failed, retrying", None, None
        )
        assert step["http_statuses"] == [None] and step["verification"] is None
        assert str(step["exchanges"][0]["note"]).startswith("not sent: DELETE failed")  # type: ignore[index]
        with vault.read_connection() as conn:
            (line,) = request_status(conn, request_id).targets
        assert line.state == "failed" and line.detail.startswith("failed, retrying")

        proxy.start()  # back on the same port, still holding the account
        clock.advance(30)
        ErasureWorker(vault, clock=clock).tick()
        assert [m for m, _ in proxy.log] == ["DELETE", "GET"]  # no read first: the first DELETE never left
        assert "down-1@example.test" not in {u["userName"] for u in app1.users()}

        back = _receipt(vault, request_id, tmp_path / "back")
        step = _step(back)
        assert back["request"]["state"] == "closed"  # type: ignore[index]
        assert (step["state"], step["outcome"], step["http_statuses"]) == (
            "succeeded", "erased (verified)", [None, 204, 404]
        )
        assert step["requested"] < step["confirmed"] and step["confirmed"] == back["request"]["closed"]  # type: ignore[index,operator]
        assert step["first_attempt"] == step["requested"] and step["attempts"] == 2
    finally:
        proxy.stop()


def test_down_then_back_without_the_account(vault: Vault, apps: list[ScimTarget], tmp_path: Path) -> None:
    """scim2-server keeps accounts in memory: restarted, it no longer holds the person, and answers the erasure's
    DELETE with 404. Custos sent nothing while it was down, so it erased nothing there."""
    app2 = apps[1]
    rid, _ = held_at_target(vault, app2, "down-2@example.test")
    app2.stop()
    clock = FakeClock()
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())
    ErasureWorker(vault, clock=clock).tick()
    app2.start()
    clock.advance(30)
    ErasureWorker(vault, clock=clock).tick()
    step = _step(_receipt(vault, request_id, tmp_path))
    assert (step["state"], step["outcome"], step["http_statuses"]) == (
        "succeeded", "already absent (verified)", [None, 404, 404]
    )
    assert "unknown" not in str(step["reason"])


def _line_state(vault: Vault, request_id: str) -> str:
    with vault.read_connection() as conn:
        (line,) = request_status(conn, request_id).targets
    return line.state


def test_a_clock_stepped_back_does_not_hold_back_the_retry(vault: Vault, apps: list[ScimTarget]) -> None:
    """The wall clock set back an hour while a step waits for its retry. Before: the retry, timed on the old clock,
    came an hour late; the erasure at that target waited the hour too."""
    app1 = apps[0]
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    offset = [timedelta(0)]
    worker = ErasureWorker(vault, clock=lambda: datetime.now(UTC) + offset[0], poll_seconds=0.05)
    try:
        rid, _ = held_at_target(vault, app1, "clock-1@example.test", proxy.base_url)
        proxy.stop()
        request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=worker.clock())
        worker.start()
        wait_until(lambda: _line_state(vault, request_id) == "failed")  # the first attempt failed; a retry is timed

        offset[0] = -timedelta(hours=1)
        proxy.start()

        wait_until(lambda: _line_state(vault, request_id) == "succeeded", timeout=30)
        assert "clock-1@example.test" not in {u["userName"] for u in app1.users()}
    finally:
        worker.stop()
        proxy.stop()
