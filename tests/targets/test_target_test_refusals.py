"""``target test`` on a target that refuses the credential (401, 403). Before: "Reached app1, but GET answered 403
(the target refused the credential)" — which request was refused, and what to check, were left to guess (a token
may read the configuration and not the schemas). Now the method and the path on the target are named (never the
credential), with what to check for a 401 (the credential itself) and a 403 (what its account may do)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.cli.inprocess import run
from tests.targets.conftest import ScimTarget
from tests.targets.faults import FaultProxy

SECRET = "a-token-that-must-never-be-printed"


def _add_bearer(data_dir: Path, proxy: FaultProxy) -> None:
    os.environ["APP1_TEST_TOKEN"] = SECRET
    try:
        added = run(data_dir, "target", "add", "app1", "--url", proxy.base_url, "--recipient", "app1", "--token-env",
                    "APP1_TEST_TOKEN")  # fmt: skip
    finally:
        del os.environ["APP1_TEST_TOKEN"]
    assert added.returncode == 0, added.stderr


def test_a_refused_credential_names_the_request_and_what_to_check(
    data_dir: Path, cli_proxied_target: tuple[ScimTarget, FaultProxy]
) -> None:
    _app1, proxy = cli_proxied_target
    _add_bearer(data_dir, proxy)

    proxy.fail("GET", 401)
    tested = run(data_dir, "target", "test", "app1")
    assert tested.returncode == 1
    assert tested.stdout == (
        "Reached app1, but GET /v2/ServiceProviderConfig answered 401 (the target refused the credential): check the "
        "token or client secret set for this target, and that the target has not revoked it or let it expire\n"
    )

    proxy.fail("GET", 403, path="/Schemas")  # the configuration may be read; the schemas may not
    tested = run(data_dir, "target", "test", "app1")
    assert tested.returncode == 1
    assert tested.stdout.startswith(
        "Reached app1, but GET /v2/Schemas answered 403 (the target refused the credential): check that its account "
        "at the target may read the SCIM configuration"
    )
    assert SECRET not in tested.stdout + tested.stderr
    assert proxy.log[-2:] == [("GET", "/v2/ServiceProviderConfig"), ("GET", "/v2/Schemas")]


def test_a_target_asking_for_a_credential_when_none_is_set_is_told_so(
    data_dir: Path, cli_proxied_target: tuple[ScimTarget, FaultProxy]
) -> None:
    _app1, proxy = cli_proxied_target
    added = run(data_dir, "target", "add", "app1", "--url", proxy.base_url, "--recipient", "app1", "--auth", "none")
    assert added.returncode == 0, added.stderr
    proxy.fail("GET", 401)
    tested = run(data_dir, "target", "test", "app1")
    assert tested.stdout == (
        "Reached app1, but GET /v2/ServiceProviderConfig answered 401 (the target refused the credential): the target "
        "asks for a credential and none is set for this target (authentication: none)\n"
    )
