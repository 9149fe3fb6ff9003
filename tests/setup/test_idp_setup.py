"""What the first run checks before it writes anything: the IdP's reach, its default mappings against the policy,
the public name, a port already taken, and the contact details written into the installed policy."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.policy.edit import set_attribute
from app.policy.loader import load_policy
from app.policy.versions import default_policy_text, in_force
from app.setup import endpoint
from app.setup.endpoint import EndpointSettings, check_port_free, machine_name
from app.setup.first_run import check, complete, policy_to_install
from app.setup.idp_mappings import DEFAULT_MAPPINGS, refused_default_mappings
from app.setup.idp_reach import AGENT, PROXY, PUBLIC, obstacles, route_problem, routes
from tests.setup.test_first_run import choices

LOOPBACK = EndpointSettings("127.0.0.1", 8443)
PUBLIC_NAME = EndpointSettings("0.0.0.0", 8443, "scim.example.org")


def test_the_default_policy_refuses_entras_contact_and_hr_defaults() -> None:
    refused = refused_default_mappings("entra", load_policy(default_policy_text()))
    assert "name.formatted" in refused and "preferredLanguage" in refused
    assert 'phoneNumbers[type eq "mobile"].value' in refused and 'addresses[type eq "work"].locality' in refused
    assert "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" in refused
    held = {"userName", "active", "displayName", "title", 'emails[type eq "work"].value', "externalId",
            "name.givenName", "name.familyName", "Group displayName", "Group members"}  # fmt: skip
    assert not held & set(refused)
    assert len(refused) == 13 and all(mapping.target for mapping in DEFAULT_MAPPINGS["okta"])


def test_a_catalogued_attribute_is_no_longer_refused() -> None:
    text = set_attribute(default_policy_text(), {"path": "phoneNumbers.value", "category": "work-contact",
                                                 "purposes": ["internal-directory"]})  # fmt: skip
    text = set_attribute(text, {"path": "name", "category": "names", "purposes": ["access-management"]},
                         ("User", "name.givenName"))  # fmt: skip
    text = text.replace('path = "name.familyName"', 'path = "nickName"')  # the whole "name" now covers both
    refused = refused_default_mappings("entra", load_policy(text))
    assert not [path for path in refused if path.startswith(("phoneNumbers", "name."))]
    assert 'addresses[type eq "work"].locality' in refused
    assert refused_default_mappings("onelogin", load_policy(text)) == []  # defaults unknown here: nothing claimed


def test_a_type_filter_holds_the_work_number_and_refuses_mobile_and_fax() -> None:
    """Was: the type was cut off before the check, so work phone numbers in the catalogue hid mobile and fax."""
    entry = {"path": "phoneNumbers.value", "types": ["work"], "category": "work-contact",
             "purposes": ["internal-directory"]}  # fmt: skip
    text = set_attribute(default_policy_text(), entry)
    refused = [path for path in refused_default_mappings("entra", load_policy(text)) if path.startswith("phone")]
    assert refused == ['phoneNumbers[type eq "mobile"].value', 'phoneNumbers[type eq "fax"].value']


def test_okta_s_documented_defaults_and_what_the_default_policy_refuses_of_them() -> None:
    """Okta's SCIM 2.0 reference shows the create-user request of its template: of it, the shipped policy refuses
    locale only (the lists this replaced also claimed title, phone numbers and addresses, without a source)."""
    assert refused_default_mappings("okta", load_policy(default_policy_text())) == ["locale"]
    assert {m.target for m in DEFAULT_MAPPINGS["okta"] if m.resource_type == "User"} == {
        "userName", "name.givenName", "name.familyName", 'emails[type eq "work"].value', "displayName", "locale",
        "externalId", "active",
    }  # fmt: skip


def test_cloud_idps_on_loopback_with_a_self_signed_certificate_need_a_route() -> None:
    found = obstacles("entra", LOOPBACK, self_signed=True)
    assert len(found) == 2 and "127.0.0.1" in found[0] and "self-signed" in found[1]
    assert "Choose how it will reach Custos" in (route_problem("entra", None, LOOPBACK, True) or "")
    assert route_problem("entra", PROXY, LOOPBACK, True) is None
    assert route_problem("entra", AGENT, LOOPBACK, True) is None
    assert "listen for other machines" in (route_problem("entra", PUBLIC, LOOPBACK, True) or "")
    assert "no on-premises agent" in (route_problem("onelogin", AGENT, LOOPBACK, True) or "")
    assert [route for route, _text in routes("jumpcloud")] == [PUBLIC, PROXY]
    assert route_problem("entra", PUBLIC, PUBLIC_NAME, self_signed=False) is None  # nothing in the way
    assert route_problem("entra", PUBLIC, PUBLIC_NAME, self_signed=True) is not None
    assert route_problem("other", None, LOOPBACK, self_signed=True) is None  # a local client can trust it
    for name in ("vm", "ops-laptop", "scim.corp.local", "10.1.2.3", "192.168.0.10"):  # only the LAN resolves these
        assert obstacles("okta", EndpointSettings("0.0.0.0", 8443, name), self_signed=False), name
    assert not obstacles("okta", EndpointSettings("0.0.0.0", 8443, "1.1.1.1"), self_signed=False)


def test_other_machines_never_reach_it_as_localhost(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot reach Custos as 'localhost'"):
        EndpointSettings("0.0.0.0", 8443, "localhost").reachable()
    with pytest.raises(ConfigError, match=r"cannot reach Custos as '127\.0\.0\.1'"):
        check(tmp_path, choices(endpoint=EndpointSettings("0.0.0.0", 8443, "127.0.0.1")))  # `init` refuses it too
    saved_before = EndpointSettings("0.0.0.0", 8443, "localhost")  # written by an older version: still starts
    endpoint.save(tmp_path, saved_before)
    assert endpoint.load(tmp_path) == saved_before
    monkeypatch.setattr(socket, "getfqdn", lambda: "localhost")  # what a container or a laptop off-LAN answers
    monkeypatch.setattr(socket, "gethostname", lambda: "ops-laptop")
    assert machine_name() == "ops-laptop"
    monkeypatch.setattr(socket, "getfqdn", lambda: "scim.corp.example")
    assert machine_name() == "scim.corp.example"
    monkeypatch.setattr(socket, "getfqdn", lambda: "localhost")
    monkeypatch.setattr(socket, "gethostname", lambda: "localhost")
    assert machine_name() == ""  # asked, rather than a name that cannot work


def test_a_port_already_listened_on_is_refused_now() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"Port {port} is already in use"):
            check_port_free("127.0.0.1", port)
        with pytest.raises(ConfigError, match="already in use"):
            check_port_free("0.0.0.0", port)  # every interface includes the one taken
    check_port_free("127.0.0.1", port)  # free again


def test_contact_details_are_written_into_the_installed_policy(data_dir: Path) -> None:
    contacts = {"controller": {"name": "Acme GmbH", "address": "1 Road, Berlin", "email": "privacy@acme.example"},
                "dpo": {"name": "", "address": "", "email": "", "telephone": ""}}  # fmt: skip
    result = complete(data_dir, choices(contacts=contacts), "dpo")
    try:
        with result.vault.read_connection() as conn:
            record = in_force(conn)
        assert record is not None and record.operator == "dpo"
        assert record.policy.controller.name == "Acme GmbH" and record.policy.dpo.is_empty  # the DPO skipped
        default = default_policy_text()
        comments = [line for line in default.splitlines() if line.startswith("#")]
        assert all(line in record.text.splitlines() for line in comments)
    finally:
        result.vault.close()
    assert endpoint.load(data_dir).port == 0


def test_skipping_both_installs_the_default_unchanged() -> None:
    skipped = {"controller": {"name": " "}, "dpo": {}}
    assert policy_to_install(choices(contacts=skipped)) is None
    assert policy_to_install(choices(policy_text="x = 1", contacts=skipped)) == "x = 1"
