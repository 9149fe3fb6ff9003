"""RFC 7643/7644 conformance of the real server, judged by the independent checker scim2-tester.

scim2-tester drives a scim2-client client against the live server over HTTPS and reports one result per
check. scim2-client ships its network engine for ``httpx2`` only; the project depends on ``httpx``, so
``HttpxScimClient`` below is the same few lines of glue written for ``httpx.Client``. Everything that
judges the server (request building, response validation, the checks) stays scim2-client's and
scim2-tester's own code.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from scim2_client import BaseSyncSCIMClient, RequestNetworkException
from scim2_tester import CheckResult, Status, check_server

from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore

PASSPHRASE = "conformance passphrase"
FAILING = {Status.ERROR, Status.CRITICAL}


class HttpxScimClient(BaseSyncSCIMClient):
    """scim2-client's synchronous network engine, over ``httpx.Client`` (its own engine targets ``httpx2``)."""

    def __init__(self, client: httpx.Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        # Same rule as scim2-client's engine: the URL as it will be sent keeps the base URL's origin and path.
        base = self.client.base_url
        try:
            url = self.client.build_request("GET", endpoint).url
        except httpx.InvalidURL:
            return False
        same_origin = (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
        return same_origin and url.raw_path.startswith(base.raw_path)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.RequestError as exc:
            network = RequestNetworkException()
            network.add_note(str(exc))
            raise network from exc


@pytest.fixture(scope="module")
def scim_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An httpx client bound to the real server: SQLCipher vault, bearer token, HTTPS with its own certificate."""
    folder: Path = tmp_path_factory.mktemp("conformance")
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    _, secret = TokenStore(vault).create("scim2-tester")
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, host="127.0.0.1", port=0, tls=tls, bus=EventBus())
    server.start()
    verify = ssl.create_default_context(cafile=str(tls.cert_path))
    try:
        with httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {secret}"},
            verify=verify,
            timeout=30,
        ) as http:
            yield http
    finally:
        server.stop()
        vault.close()


# scim2-tester false positives: (resource type, check, attribute path) -> why the RFC does not require it.
TESTER_FALSE_POSITIVES: dict[tuple[str, str, str], str] = {
    (resource, check, "members"): (
        "the checker compares the whole members value, including 'display', a sub-attribute this server publishes "
        "readOnly and computes from the member (RFC 7643 §2.4: display is READ-ONLY); the checker never sent one, "
        "so any correct server that returns display fails this check"
    )
    for resource, check in (("Group", "check_add_attribute"), ("Group", "check_replace_attribute"))
}


def _known_false_positive(result: CheckResult) -> str | None:
    urn = result.data.get("urn") if isinstance(result.data, dict) else None
    return TESTER_FALSE_POSITIVES.get((result.resource_type or "", result.title or "", str(urn)))


def _describe(result: CheckResult) -> str:
    where = f"[{result.resource_type}] " if result.resource_type else ""
    return f"{result.status.name} {where}{result.title}: {result.reason}"


@pytest.fixture(scope="module")
def results(scim_http: httpx.Client) -> list[CheckResult]:
    """All scim2-tester checks (discovery, random URL, CRUD, attribute projection, PATCH add/remove/replace)."""
    return check_server(HttpxScimClient(scim_http))


def test_scim2_tester_finds_no_failure(results: list[CheckResult]) -> None:
    """Every scim2-tester check passes on every resource type the server publishes (User with the enterprise
    extension, Group), except the documented checker false positives in ``TESTER_FALSE_POSITIVES``.

    No check is skipped: this server advertises PATCH, which is the only feature scim2-tester 0.5 skips checks
    for, so a skip here means the advertisement regressed and fails the test too.
    """
    failures = [_describe(r) for r in results if r.status in FAILING and _known_false_positive(r) is None]
    skipped = [_describe(r) for r in results if r.status is Status.SKIPPED]
    passed = sum(r.status not in FAILING and r.status is not Status.SKIPPED for r in results)
    print(f"scim2-tester: {len(results)} checks, {passed} passed, {len(skipped)} skipped")
    assert not failures, "scim2-tester failures:\n" + "\n".join(failures)
    assert not skipped, "scim2-tester skipped checks:\n" + "\n".join(skipped)


@pytest.mark.xfail(strict=True, reason="scim2-tester false positives, see TESTER_FALSE_POSITIVES")
def test_scim2_tester_false_positives_still_fail(results: list[CheckResult]) -> None:
    """Strict xfail: once scim2-tester stops reporting them, this passes and flags the allowance for removal."""
    known = [_describe(r) for r in results if r.status in FAILING and _known_false_positive(r) is not None]
    assert not known, "\n".join(known)
