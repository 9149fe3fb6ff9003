""""Outside the policy" from the audit trail: Entra-default users pushed over real HTTPS to a real vault under
the shipped policy, in reject then strip mode; the rows name attributes with their type and the client, count
requests, and never carry a value."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.audit.tables import AuditEvent
from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.policy.edit import set_outside_schema
from app.policy.loader import check_policy, load_policy
from app.policy.minimise import Minimiser
from app.policy.outside import REFUSED, STRIPPED, base_path, not_held_by, outside_policy, summary
from app.policy.versions import default_policy_text, in_force
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import PASSPHRASE, LiveServer
from tests.entra_support import ENTERPRISE, MOBILE, entra_default_user

MOBILE_PATH = 'phoneNumbers[type eq "mobile"]'


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Vault, LiveServer]]:
    folder = tmp_path_factory.mktemp("outside")
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    tokens = TokenStore(vault)
    _, entra = tokens.create("Microsoft Entra ID")
    _, okta = tokens.create("okta-prod")
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, tls=tls, bus=EventBus())
    server.start()
    live = LiveServer(server, entra, tls.cert_path, folder)
    try:
        with live.client() as http:
            for n in range(3):
                assert http.post("/Users", json=entra_default_user(n)).status_code == 400
        with live.client(okta) as http:
            body = {"schemas": [entra_default_user(0)["schemas"][0]], "userName": "o1@example.test"}
            assert http.post("/Users", json=body | {"preferredLanguage": "de"}).status_code == 400
        apply_policy(vault, set_outside_schema(default_policy_text(), "strip"), "test")
        server.policy.refresh()
        with live.client() as http:
            assert http.post("/Users", json=entra_default_user(9)).status_code == 201
        yield vault, live
    finally:
        server.stop()
        vault.close()


def test_rows_per_typed_path_and_client(pushed: tuple[Vault, LiveServer]) -> None:
    vault, _live = pushed
    with vault.read_connection() as conn:
        rows = outside_policy(conn)
    by_key = {(row.path, row.client): row for row in rows}
    mobile = by_key[(MOBILE_PATH, "Microsoft Entra ID")]
    assert (mobile.refused, mobile.stripped, mobile.resource_type) == (3, 1, "User")
    assert mobile.first_seen <= mobile.last_seen and mobile.first_seen.tzinfo is not None
    assert mobile.attribute == "phoneNumbers"
    paths = {row.path for row in rows}
    assert {'phoneNumbers[type eq "work"]', 'phoneNumbers[type eq "fax"]', "name.formatted"} <= paths
    assert {"preferredLanguage", f"{ENTERPRISE}:employeeNumber", 'addresses[type eq "work"]'} <= paths
    okta = by_key[("preferredLanguage", "okta-prod")]
    assert (okta.refused, okta.stripped) == (1, 0)
    assert rows == sorted(rows, key=lambda row: (-row.requests, row.path, row.client))


def test_no_value_reaches_the_trail_or_the_rows(pushed: tuple[Vault, LiveServer]) -> None:
    vault, _live = pushed
    with vault.read_connection() as conn:
        kinds = AuditEvent.kind.in_((REFUSED, STRIPPED))
        details = [row[0] for row in conn.execute(select(AuditEvent.details).where(kinds))]
        rows = outside_policy(conn)
    assert len(details) == 5
    text = json.dumps(details) + repr(rows)
    for n in (0, 1, 2, 9):
        assert MOBILE.format(n=n) not in text and f"Given{n:04d}" not in text and "en-GB" not in text


def test_summary_counts_requests_not_attributes(pushed: tuple[Vault, LiveServer]) -> None:
    vault, _live = pushed
    with vault.read_connection() as conn:
        line = summary(conn)
    assert (line.refused, line.stripped, line.clients) == (4, 1, 2)
    assert "4 requests refused" in line.sentence() and "from 2 clients" in line.sentence()


def test_what_the_policy_now_holds_drops_out(pushed: tuple[Vault, LiveServer]) -> None:
    vault, _live = pushed
    text = default_policy_text().replace(
        '[[attributes]]\npath = "title"',
        '[[attributes]]\npath = "preferredLanguage"\ncategory = "employment"\npurposes = ["internal-directory"]\n\n'
        '[[attributes]]\npath = "title"',
        1,
    )
    assert "preferredLanguage" in text
    with vault.read_connection() as conn:
        current = in_force(conn)
        assert current is not None
        before = {row.path for row in outside_policy(conn, not_held_by(Minimiser(current.policy)))}
    assert "preferredLanguage" in before
    policy, problems = check_policy(text)
    assert policy is not None, problems
    with vault.read_connection() as conn:
        after = {row.path for row in outside_policy(conn, not_held_by(Minimiser(policy)))}
    assert "preferredLanguage" not in after and MOBILE_PATH in after


def test_base_path_drops_the_type_only() -> None:
    assert base_path('addresses[type eq "work"].formatted') == "addresses.formatted"
    assert base_path("phoneNumbers[type not canonical]") == "phoneNumbers"
    assert base_path(f"{ENTERPRISE}:employeeNumber") == f"{ENTERPRISE}:employeeNumber"


def test_only_canonical_types_are_recorded() -> None:
    """``type`` is client text: a value outside RFC 7643's list never reaches the trail."""
    document = {
        "userName": "x",
        "phoneNumbers": [{"type": "Mobile", "value": "1"}, {"type": "Jane's cell", "value": "2"}, {"value": "3"}],
        "emails": [{"type": "work", "value": "a@b.test", "display": "A"}],
    }
    paths = Minimiser(load_policy(default_policy_text())).minimise("User", document).paths
    assert paths == ['emails[type eq "work"].display', "phoneNumbers", 'phoneNumbers[type eq "mobile"]',
                     "phoneNumbers[type not canonical]"]  # fmt: skip
    assert "Jane" not in repr(paths)
