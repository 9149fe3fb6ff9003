"""The endpoint address survives restarts, refuses what an IdP could not use, and certificates say whom they cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.setup import endpoint
from app.setup.tls import generate_self_signed, summarise
from tests.setup.cert_support import write_pair


def test_saved_settings_come_back(tmp_path: Path) -> None:
    assert endpoint.load(tmp_path) == endpoint.EndpointSettings("127.0.0.1", 8443)
    settings = endpoint.EndpointSettings("::", 9443, "Scim.Example.org")
    endpoint.save(tmp_path, settings)
    assert endpoint.load(tmp_path) == settings
    assert settings.base_url() == "https://Scim.Example.org:9443/scim/v2"
    assert endpoint.EndpointSettings("::1", 8443).base_url(port=1234) == "https://[::1]:1234/scim/v2"
    assert [p.name for p in tmp_path.iterdir()] == [endpoint.ENDPOINT_FILENAME]


@pytest.mark.parametrize(
    "text",
    ['[endpoint]\nport = "eighty"\n', "[endpoint\n", '[endpoint]\nhost = "example.org"\n', "[endpoint]\nport = -1\n"],
)
def test_a_broken_file_is_named(tmp_path: Path, text: str) -> None:
    (tmp_path / endpoint.ENDPOINT_FILENAME).write_text(text)
    with pytest.raises(ConfigError):
        endpoint.load(tmp_path)


def test_certificate_names_and_coverage(tmp_path: Path) -> None:
    material = generate_self_signed(tmp_path, ("custos.lan", "192.0.2.10"))
    summary = summarise(material.cert_path.read_bytes())
    assert summary.self_signed
    assert {"custos.lan", "localhost", "192.0.2.10", "127.0.0.1", "::1"} <= set(summary.names)
    assert summary.covers("CUSTOS.lan") and not summary.covers("other.lan")
    assert summary.fingerprint == material.fingerprint
    cert, _key = write_pair(tmp_path / "wild", names=("*.example.org",))
    wildcard = summarise(cert.read_bytes())
    assert wildcard.covers("scim.example.org")
    assert not wildcard.covers("a.b.example.org") and not wildcard.covers("example.org")
