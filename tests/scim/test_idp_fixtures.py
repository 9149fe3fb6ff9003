"""Replay each IdP's documented provisioning lifecycle (tests/fixtures/idp/*.json) over HTTPS.

The fixtures and their conventions are described at the end of docs/idp-tolerances.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.directory.schema import ENTERPRISE_SCHEMA
from tests.conftest import LiveServer

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "idp").glob("*.json"))
_SELECTOR = re.compile(r'^(?P<attr>[^\[]+)\[(?P<key>\w+) eq "(?P<value>[^"]*)"\](?:\.(?P<sub>.+))?$')
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def substitute(value: Any, saved: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: saved.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(item, saved) for item in value]
    if isinstance(value, dict):
        return {substitute(k, saved): substitute(v, saved) for k, v in value.items()}
    return value


def _get(container: Any, name: str) -> Any:
    if not isinstance(container, dict):
        return None
    for key, value in container.items():
        if key.lower() == name.lower():
            return value
    return None


def evaluate(body: dict[str, Any], path: str) -> Any:
    """A SCIM attribute path on a response body (the subset the fixtures use)."""
    container: Any = body
    if path.lower().startswith(ENTERPRISE_SCHEMA.lower() + ":"):
        container = _get(body, ENTERPRISE_SCHEMA)
        path = path[len(ENTERPRISE_SCHEMA) + 1 :]
    selector = _SELECTOR.match(path)
    if selector:
        elements = _get(container, selector["attr"]) or []
        wanted = selector["value"].lower()
        match = next((e for e in elements if str(_get(e, selector["key"]) or "").lower() == wanted), None)
        if match is None or selector["sub"] is None:
            return match
        return _get(match, selector["sub"])
    for part in path.split("."):
        container = _get(container, part)
    return container


def absent(value: Any) -> bool:
    return value is None or value == [] or value == {}


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_idp_lifecycle(live: LiveServer, fixture: Path) -> None:
    steps = json.loads(fixture.read_text())
    saved: dict[str, str] = {}
    with live.client() as client:
        for number, step in enumerate(steps, start=1):
            path = substitute(step["path"], saved)
            body = substitute(step.get("body"), saved)
            content = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/scim+json"} if content else {}
            # the fixture path is already percent-encoded the way the IdP sends it
            url = httpx.URL(live.server.base_url + path)
            response = client.request(step["method"], url, content=content, headers=headers)
            where = f"{fixture.stem} step {number} ({step['name']})"
            expected_status = step["expect_status"]
            acceptable = (
                {expected_status, 204} if step["method"] == "PATCH" and not step.get("expect") else {expected_status}
            )
            assert response.status_code in acceptable, f"{where}: {response.status_code} {response.text[:300]}"
            payload = response.json() if response.content else {}
            for key, expected in substitute(step.get("expect") or {}, saved).items():
                actual = evaluate(payload, key)
                if expected is None:
                    assert absent(actual), f"{where}: {key} should be absent, got {actual!r}"
                else:
                    assert actual == expected, f"{where}: {key} expected {expected!r}, got {actual!r}"
            if step.get("save_as"):
                saved[step["save_as"]] = payload["id"]
