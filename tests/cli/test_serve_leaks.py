"""What `serve` leaves in its stderr log and on the trail when a target refuses a person: never the person's
values, never the target's own words.

Found by seeding canaries into a real `serve` (HTTPS, loopback) whose target answered 409: the look-up that
follows (GET /Users?filter=externalId eq "…", then userName) was logged by the HTTP client with its URL, so the
person's externalId and userName stood in serve's stderr (no redactor on it); and the target's ``scimType``,
whatever text it held, went into the ``provision.failed`` entry, so onto the SIEM feed and every export.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, quote_plus

import httpx
import pytest

from tests.cli.test_cli import ENDPOINT_LINE, run, serving
from tests.conftest import USER_SCHEMA
from tests.targets.support import policy_with_recipients

EXTERNAL_ID = "ext-canary-7f3a"
USER_NAME = "canary.given-7f3a@example.org"
TARGETS_WORD = "CANARY-target-words-5d1e"  # what a target echoes in scimType: not an RFC 7644 error type


class RefusingTarget(BaseHTTPRequestHandler):
    """A target that already holds every account (409 on POST) yet finds none by filter: Custos looks the
    person up by externalId and by userName, then records the refusal."""

    lookups: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._json(409, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409",
                         "scimType": TARGETS_WORD, "detail": TARGETS_WORD})  # fmt: skip

    def do_GET(self) -> None:
        if "filter=" in self.path:
            self.lookups.append(self.path)
        self._json(200, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
                         "Resources": []})  # fmt: skip

    def _json(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_target() -> Iterator[str]:
    RefusingTarget.lookups = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingTarget)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/scim/v2"
    server.shutdown()
    server.server_close()


def _forms(value: str) -> set[str]:
    """The value as a log line or a file could hold it: as is, percent-encoded, form-encoded."""
    return {value, quote(value, safe=""), quote_plus(value), quote(value)}


@pytest.mark.usefixtures("vault_file")
def test_a_refused_push_leaves_no_value_in_the_log_and_no_target_words_on_the_trail(
    data_dir: Path, tmp_path: Path, refusing_target: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients(only={"app1"}, receives={"app1": ["userName", "externalId"]}))
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0
    added = run(data_dir, "target", "add", "app1", "--url", refusing_target, "--recipient", "app1", "--auth", "none")
    assert added.returncode == 0, added.stderr
    token = run(data_dir, "token", "create", "--name", "idp").stdout.splitlines()[1]
    with serving(data_dir, "--port", "0") as process:
        assert process.stdout is not None and process.stderr is not None
        match = ENDPOINT_LINE.match(process.stdout.readline().rstrip("\n"))
        assert match
        user = {"schemas": [USER_SCHEMA], "userName": USER_NAME, "externalId": EXTERNAL_ID, "active": True}
        created = httpx.post(f"{match.group(1)}/Users", json=user, headers={"Authorization": f"Bearer {token}"},
                             verify=False)  # fmt: skip
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while len(RefusingTarget.lookups) < 2 and time.monotonic() < deadline:  # externalId, then userName
            time.sleep(0.1)
        assert len(RefusingTarget.lookups) >= 2, RefusingTarget.lookups
        time.sleep(1)  # the refusal recorded after the look-ups
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        stderr = process.stderr.read()
    assert "Users?<query>" in stderr  # the look-ups were logged, without what they looked for
    for value in (USER_NAME, EXTERNAL_ID):
        assert not {form for form in _forms(value) if form in stderr}, "a person's value in serve's log"
    for command, out in (("siem", "feed.ocsf"), ("audit", "timeline.csv")):  # the SOC's copy, the auditor's
        written = tmp_path / out
        verb = ["siem", "export", "--format", "ocsf"] if command == "siem" else ["audit", "timeline", "--format", "csv"]
        assert run(data_dir, *verb, "--out", str(written)).returncode == 0
        text = written.read_text()
        assert "provision.failed" in text and "POST answered 409" in text  # the refusal is there, in our words
        assert TARGETS_WORD not in text
