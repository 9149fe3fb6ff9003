"""Each erasure step carries the moment it closed, recorded then: the receipt (JSON and PDF) and the status give
that moment, never the request's time nor the time the receipt was printed."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader

from app.erasure.receipt import export
from app.erasure.requests import request_erasure, retry
from app.erasure.status import request_status
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from tests.erasure.stub import StubTarget
from tests.erasure.support import FakeClock, TargetSpec, add_targets, held_without_push, person, service_for

REQUESTED = "2030-01-07T09:00:00.000000Z"
WORKED = "2030-01-07T10:00:00.000000Z"  # an hour after the request
PRINTED = "2030-01-08T10:00:00.000000Z"  # a day later


def _erase(vault: Vault, stub: StubTarget, clock: FakeClock) -> str:
    specs = [
        TargetSpec("del", stub.base_url, stub.token),
        TargetSpec("deact", stub.base_url, stub.token, erase_mode="deactivate"),
        TargetSpec("never", stub.base_url, stub.token),
    ]
    ids = add_targets(vault, specs)
    service = service_for(vault)
    rid = str(service.create("User", person("step-times@example.test")).body["id"])  # type: ignore[index]
    service.close()
    held_without_push(vault, rid, {ids["del"]: stub.add_user("a"), ids["deact"]: stub.add_user("b")})
    request_id = request_erasure(vault, [rid], "art17-1b", "dpo", now=clock())
    clock.advance(3600)
    ErasureWorker(vault, clock=clock).tick()
    clock.advance(86400)
    return request_id


def test_the_receipt_dates_each_step_by_when_it_closed(vault: Vault, stub: StubTarget, tmp_path: Path) -> None:
    clock = FakeClock()
    request_id = _erase(vault, stub, clock)
    files = export(vault, request_id, tmp_path, now=clock())
    receipt = json.loads(files.json_path.read_text())
    assert receipt["issued"] == PRINTED
    by_target = {t["target"]: t for t in receipt["subjects"][0]["targets"]}
    assert by_target["del"]["closed"] == WORKED
    assert by_target["deact"]["state"] == "deprovisioned_not_erased"
    assert by_target["deact"]["closed"] == WORKED  # was absent: only the request's time dated it
    assert by_target["never"]["closed"] == REQUESTED  # skipped when the request was made
    text = "".join(page.extract_text() for page in PdfReader(files.pdf_path).pages)
    # For people, the PDF gives each time to the second in UTC; the JSON keeps the ISO form that verifies.
    assert text.count("closed 2030-01-07 10:00:00 UTC") >= 2 and "closed 2030-01-07 09:00:00 UTC" in text
    assert "closed 2030-01-08 10:00:00 UTC" not in text and "Issued 2030-01-08 10:00:00 UTC" in text
    assert ".000000Z" not in text
    digest = receipt["policy_in_force"].split("sha256:")[1]
    assert f"Policy SHA-256 {digest}" in text  # on one line: with its label it wrapped two characters over
    pseudonym = receipt["subjects"][0]["pseudonym"]
    assert pseudonym in text.replace("\n", "")  # in full, as the trail names the person (it was cut at 32)


def test_status_gives_the_closing_time_and_a_retry_reopens(vault: Vault, stub: StubTarget) -> None:
    clock = FakeClock()
    stub.keeps_deleted = True  # the DELETE is accepted, the account still served: verification fails
    request_id = _erase(vault, stub, clock)
    with vault.read_connection() as conn:
        lines = {line.target: line for line in request_status(conn, request_id).targets}
    assert lines["del"].state == "verification_failed"
    assert lines["del"].detail.endswith(", closed 2030-01-07 10:00:00 UTC")
    assert retry(vault, request_id, "del", "dpo", clock()) == 1
    with vault.read_connection() as conn:
        line = {line.target: line for line in request_status(conn, request_id).targets}["del"]
    assert line.state == "queued" and "closed" not in line.detail
