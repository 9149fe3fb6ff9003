"""A target presenting a TLS certificate Custos does not trust (another certificate than the one it was told to
trust): the connection test and the Targets page must say that, not "ConnectError" read as "Cannot reach", which
sends the operator after the network. Nothing is sent to it: no credential, no personal data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from app.setup.tls import generate_self_signed
from app.store.vault import Vault
from app.targets.config import require_target
from app.targets.service import check_connection
from app.targets.status import TargetHealth, health
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import Provisioning, provisioning


def _health(p: Provisioning) -> TargetHealth:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target


def test_an_untrusted_certificate_is_named(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]], tmp_path: Path
) -> None:
    (app1,) = scim_targets(1)
    (tmp_path / "served").mkdir()
    (tmp_path / "trusted").mkdir()
    served = generate_self_signed(tmp_path / "served")
    trusted = generate_self_signed(tmp_path / "trusted")  # what the operator gave Custos: not what is served
    proxy = FaultProxy(app1.base_url.removesuffix("/v2"), tls=(served.cert_path, served.key_path)).start()
    through = SimpleNamespace(name="app1", base_url=proxy.base_url, token=app1.token)  # over HTTPS, via the proxy
    p = provisioning(vault, [through], ca_file=str(trusted.cert_path))  # type: ignore[list-item]
    try:
        with p.vault.read_connection() as conn:
            config = require_target(conn, "app1")
        assert config.base_url.startswith("https://")
        checked = check_connection(config, p.policy.get().policy)
        assert not checked.reached
        assert "TLS certificate is not trusted (self-signed certificate" in checked.headline()

        p.service.create("User", person("tls-1@example.test"))
        wait_until(lambda: _health(p).last_error is not None)
        assert "TLS certificate is not trusted" in str(_health(p).last_error)
        assert proxy.log == []  # nothing reached it
    finally:
        p.close()
        proxy.stop()
