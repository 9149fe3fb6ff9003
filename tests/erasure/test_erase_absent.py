"""A target that no longer holds the account when the erasure's DELETE comes (someone removed it there, or the
application lost it) answers 404. Nothing is left to erase, so the step succeeds; but Custos erased nothing there,
and the receipt, the status line and the trail must say "already absent", not "erased (verified)"."""

from __future__ import annotations

import json
from pathlib import Path

from app.audit.trail import of_kind
from app.erasure.receipt import export
from app.erasure.requests import request_erasure
from app.erasure.status import request_status
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from tests.erasure.support import FakeClock, held_at_target
from tests.targets.conftest import ScimTarget


def _receipt_step(vault: Vault, request_id: str, out: Path) -> dict[str, object]:
    receipt = json.loads(export(vault, request_id, out).json_path.read_text())
    (step,) = receipt["subjects"][0]["targets"]
    return dict(step)


def test_a_delete_answered_404_is_already_absent_not_erased(
    vault: Vault, apps: list[ScimTarget], tmp_path: Path
) -> None:
    app1 = apps[0]
    rid, remote = held_at_target(vault, app1, "absent-1@example.test")
    with app1.client() as http:  # removed at the application itself before the erasure
        assert http.delete(f"/Users/{remote}").status_code == 204

    clock = FakeClock()
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())
    ErasureWorker(vault, clock=clock).tick()

    step = _receipt_step(vault, request_id, tmp_path)
    assert step["state"] == "succeeded" and step["http_statuses"] == [404, 404]
    assert step["outcome"] == "already absent (verified)"
    assert "no longer held" in str(step["reason"])
    with vault.read_connection() as conn:
        (line,) = request_status(conn, request_id).targets
        (event,) = of_kind(conn, "erasure.target.succeeded")
        closed = of_kind(conn, "erasure.closed")
    assert line.detail.startswith("already absent (verified)")
    assert event.details["method"] == "absent"
    assert closed[0].details["complete"] is True  # nothing is held there: the request is complete


def test_a_delete_that_removed_the_account_is_erased(vault: Vault, apps: list[ScimTarget], tmp_path: Path) -> None:
    rid, _ = held_at_target(vault, apps[0], "absent-2@example.test")
    clock = FakeClock()
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())
    ErasureWorker(vault, clock=clock).tick()
    step = _receipt_step(vault, request_id, tmp_path)
    assert (step["outcome"], step["http_statuses"]) == ("erased (verified)", [204, 404])
