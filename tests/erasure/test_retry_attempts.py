"""An operator's ``erase retry`` starts the attempt limit afresh, but the receipt and the trail count every attempt
made at the target: 401 (wrong token), the operator fixes the token and retries, 503, then success. Against a real
scim2-server behind the fault proxy; the receipt said 2 attempts while its exchanges held 3 DELETEs."""

from __future__ import annotations

import json
from pathlib import Path

from app.audit.trail import of_kind
from app.erasure.receipt import export, verify_receipt
from app.erasure.requests import request_erasure, retry
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from app.targets.config import update_target
from tests.erasure.support import FakeClock, held_at_target
from tests.targets.conftest import ScimTarget
from tests.targets.faults import FaultProxy


def _set_token(vault: Vault, name: str, token: str) -> None:
    with vault.write_transaction() as conn:
        update_target(conn, name, secret=token)


def test_the_receipt_counts_every_attempt_across_an_operator_retry(
    vault: Vault, apps: list[ScimTarget], tmp_path: Path
) -> None:
    app1 = apps[0]
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    try:
        rid, _ = held_at_target(vault, app1, "retry-count@example.test", proxy.base_url)
        _set_token(vault, app1.name, "not-the-token")
        clock = FakeClock()
        request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=clock())
        ErasureWorker(vault, clock=clock).tick()  # the target answers 401: the step waits for an operator

        _set_token(vault, app1.name, app1.token)  # the operator fixes the token, then retries
        assert retry(vault, request_id, None, "dpo", now=clock()) == 1
        proxy.fail("DELETE", 503)
        ErasureWorker(vault, clock=clock).tick()
        clock.advance(60)
        ErasureWorker(vault, clock=clock).tick()  # reads first (a 503 may have deleted), then DELETE, then GET

        files = export(vault, request_id, tmp_path)
        (step,) = json.loads(files.json_path.read_text())["subjects"][0]["targets"]
        deletes = [x["status"] for x in step["exchanges"] if x["method"] == "DELETE"]
        assert (step["state"], deletes, proxy.count("DELETE")) == ("succeeded", [401, 503, 204], 3)
        assert step["http_statuses"] == [401, 503, 200, 204, 404]
        assert step["attempts"] == 3
        assert verify_receipt(files.json_path).valid
        with vault.read_connection() as conn:
            (event,) = of_kind(conn, "erasure.target.succeeded")
        assert event.details["attempts"] == 3
    finally:
        proxy.stop()
