"""What ``target test`` and a push say when the target answers, but not as asked: a 500 with a load balancer's
HTML page, a refused credential, a redirect. "Cannot reach" sent the operator after the network for a target that
answered; a PUT answered with a redirect (never followed: the credential would go wherever it points) was recorded
as "replaced", though nothing was changed at the target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.audit.trail import of_kind
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import provisioning

PAGE = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def test_target_test_says_what_the_target_answered(
    data_dir: Path, cli_proxied_target: tuple[ScimTarget, FaultProxy]
) -> None:
    _app1, proxy = cli_proxied_target  # the fixture stops the proxy; this test stops it once itself, below
    added = run(data_dir, "target", "add", "app1", "--url", proxy.base_url, "--recipient", "app1", "--auth", "none")
    assert added.returncode == 0, added.stderr

    proxy.fail("GET", 500, html=PAGE)
    tested = run(data_dir, "target", "test", "app1")
    assert (tested.returncode, tested.stdout) == (1, "Reached app1, but GET answered 500\n")

    proxy.fail("GET", 401)
    tested = run(data_dir, "target", "test", "app1")
    assert tested.stdout.startswith("Reached app1, but GET /v2/ServiceProviderConfig answered 401 (the target refused "
                                    "the credential): ")  # fmt: skip

    proxy.fail("GET", 301, headers={"Location": "https://elsewhere.example.test/scim/v2/ServiceProviderConfig"})
    tested = run(data_dir, "target", "test", "app1")
    assert tested.returncode == 1
    assert tested.stdout == "Reached app1, but GET answered 301 (a redirect, not followed: is the URL right?)\n"

    proxy.stop()
    tested = run(data_dir, "target", "test", "app1")
    assert tested.returncode == 1 and tested.stdout.startswith("Cannot reach app1: GET failed: cannot connect")


def test_a_redirected_put_is_not_a_push(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app1,) = scim_targets(1)
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    upstream = app1.port
    app1.port = proxy.port
    p = provisioning(vault, [app1])
    app1.port = upstream
    try:
        rid = str((p.service.create("User", person("moved-1@example.test")).body or {})["id"])
        wait_until(lambda: len(app1.users()) == 1)
        proxy.fail("PUT", 307, headers={"Location": "https://elsewhere.example.test/scim/v2/Users/x"})
        p.service.patch("User", rid, {"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Seven Moved"}]})  # fmt: skip
        with vault.read_connection() as conn:
            wait_until(lambda: len(of_kind(conn, "provision.failed")) == 1)
            (failed,) = of_kind(conn, "provision.failed")
            assert of_kind(conn, "provision.replaced") == []
        assert failed.details["status"] == 307 and "redirect" in failed.details["error"]
        assert app1.users()[0]["displayName"] == "Seven Subject"  # unchanged: and nothing says otherwise
    finally:
        p.close()
        proxy.stop()


def test_target_test_at_a_wrong_base_path_or_a_sign_in_page_is_not_connected(
    data_dir: Path, cli_proxied_target: tuple[ScimTarget, FaultProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL without the SCIM base path (the commonest typo) got a 404, and a sign-in page a 200 of HTML: both were
    read as an empty configuration, "Connected to app1: 0 schemas" with every attribute "NOT SUPPORTED"."""
    app1, proxy = cli_proxied_target
    wrong = app1.base_url.replace("/v2", "/scim/v2")
    monkeypatch.setenv("APP1_TOKEN", app1.token)
    assert run(data_dir, "target", "add", "app1", "--url", wrong, "--recipient", "app1", "--token-env",
               "APP1_TOKEN").returncode == 0  # fmt: skip
    tested = run(data_dir, "target", "test", "app1")
    assert (tested.returncode, tested.stdout) == (1, "Reached app1, but GET /ServiceProviderConfig answered 404 "
                                                     "(is the URL the SCIM base, e.g. …/scim/v2?)\n")  # fmt: skip

    assert run(data_dir, "target", "edit", "app1", "--url", proxy.base_url).returncode == 0
    proxy.fail("GET", 200, html=PAGE)  # a gateway's sign-in page, answered 200
    tested = run(data_dir, "target", "test", "app1")
    assert tested.returncode == 1 and tested.stdout.startswith(
        "Reached app1, but GET /ServiceProviderConfig answered 200 with no SCIM JSON")
    assert run(data_dir, "target", "test", "app1").stdout.startswith("Connected to app1:")
