"""A filter on a type the policy does not hold (decision 0034): refused with the reason, not answered empty.

With ``emails.value`` held for ``types = ["work"]`` (decision 0028) a home address is never stored, so
``emails[type eq "home"].value eq "x"`` can match nobody whatever the directory holds; 200 with no result read as
"nobody has that address". The endpoint now answers as it does for an attribute not held: 400 invalidFilter, the
reason naming the typed path and the types held, never a value. Real server over HTTPS on a real SQLCipher vault.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.core.events import EventBus
from app.policy.type_filter import canonical_types
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.targets.policy_change import apply_policy
from tests.conftest import LiveServer, VaultTemplate, new_user
from tests.policy_support import work_contacts_text

WORK_MAIL, WORK_PHONE = "ada@work.example.test", "+44 20 7946 0000"
PROBE = "+44 7700 900"  # a value the filters compare with: it must not come back in any reason


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("typed-queries")
    vault = vault_template.open_copy(folder)
    apply_policy(vault, work_contacts_text(), "dpo")
    _, token = TokenStore(vault).create("Okta")
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, tls=tls, bus=EventBus())
    server.start()
    live = LiveServer(server, token, tls.cert_path, folder)
    with live.client() as http:
        body = new_user("ada@example.test", emails=[{"type": "work", "value": WORK_MAIL}],
                        phoneNumbers=[{"type": "work", "value": WORK_PHONE}])  # fmt: skip
        assert http.post("/Users", json=body).status_code == 201
    yield live
    server.stop()
    vault.close()


@pytest.mark.parametrize(
    ("scim_filter", "named", "held"),
    [
        ('emails[type eq "home"].value eq "x"', 'emails[type eq "home"]', "emails of type work"),
        ('emails[type eq "home"]', 'emails[type eq "home"]', "emails of type work"),
        ('emails.type eq "Home"', 'emails[type eq "home"]', "emails of type work"),
        (f'phoneNumbers[type eq "mobile" and value sw "{PROBE}"]', 'phoneNumbers[type eq "mobile"]',
         "phoneNumbers of type work"),
        (f'userName sw "a" or phoneNumbers[type eq "fax" and value eq "{PROBE}"]', 'phoneNumbers[type eq "fax"]',
         "phoneNumbers of type work"),
        # A word outside the schema's types is not echoed (the client chose it): named as the trail names it.
        (f'phoneNumbers[type eq "{PROBE}"]', "phoneNumbers[type not canonical]", "phoneNumbers of type work"),
        ("emails[type eq null]", "emails[type missing]", "emails of type work"),  # an untyped e-mail is not held
        # Any comparison on type that no held type satisfies can only be false on what is stored.
        ('emails[type ne "work"]', 'emails[type ne "work"]', "emails of type work"),
        ('phoneNumbers[type sw "mob"]', "phoneNumbers[type sw …]", "phoneNumbers of type work"),
        ('not (emails[type eq "other"])', 'emails[type eq "other"]', "emails of type work"),
    ],
)
def test_a_filter_on_a_type_not_held_is_refused_with_the_reason(
    typed: LiveServer, scim_filter: str, named: str, held: str
) -> None:
    with typed.client() as http:
        listed = http.get("/Users", params={"filter": scim_filter})
        searched = http.post("/Users/.search", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                     "filter": scim_filter})  # fmt: skip
    for response in (listed, searched):
        assert response.status_code == 400, response.text
        error = response.json()
        assert error["scimType"] == "invalidFilter"
        assert error["detail"] == (
            f"'{named}' is not held under the agreed schema (only {held} are held) and cannot be filtered on."
        )
        assert PROBE not in response.text and '"x"' not in error["detail"]


@pytest.mark.parametrize(
    "scim_filter",
    [
        f'emails[type eq "work"].value eq "{WORK_MAIL}"',
        f'emails[type eq "Work" and value eq "{WORK_MAIL}"]',
        'phoneNumbers[type eq "work" and value sw "+44 20"]',
        f'emails.type eq "work" and emails.value eq "{WORK_MAIL}"',
        'emails[type ne "home"]',  # a work address is not of type home
        'emails[type co "OR" and value pr]',  # "work" contains "or", whatever the case
        'emails.type pr and userName eq "ada@example.test"',
    ],
)
def test_a_filter_on_a_held_type_still_finds_the_person(typed: LiveServer, scim_filter: str) -> None:
    with typed.client() as http:
        response = http.get("/Users", params={"filter": scim_filter})
    assert response.status_code == 200, response.text
    assert [r["userName"] for r in response.json()["Resources"]] == ["ada@example.test"]


def test_a_group_filter_is_untouched_and_a_search_across_types_is_refused(typed: LiveServer) -> None:
    """Only what names a type not held is refused: a Group filter is answered, a search across types is not."""
    with typed.client() as http:
        groups = http.get("/Groups", params={"filter": 'displayName eq "x"'})
        across = http.post("/.search", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                             "filter": 'emails[type eq "home"]'})  # fmt: skip
    assert groups.status_code == 200
    assert across.status_code == 400 and "'emails[type eq \"home\"]'" in across.json()["detail"]


def _type_of(schema: dict[str, Any], attribute: str) -> dict[str, Any]:
    found = next(a for a in schema["attributes"] if a["name"] == attribute)
    return next(s for s in found["subAttributes"] if s["name"] == "type")  # type: ignore[no-any-return]


def test_schemas_state_exactly_the_types_that_are_held(typed: LiveServer) -> None:
    """What an IdP's schema discovery reads (RFC 7643 §7) is what the endpoint keeps: each type of the schema is
    sent once, and exactly the published canonicalValues are accepted; an element without a type is not (so
    ``type`` is published as required). Checked against the server's own answers, not a copy of the policy."""
    with typed.client() as http:
        listed = http.get("/Schemas").json()["Resources"]
        user = http.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
        assert next(s for s in listed if s["id"] == user["id"]) == user
        published = {name: _type_of(user, name) for name in ("emails", "phoneNumbers")}
        samples = {"emails": "kim@example.test", "phoneNumbers": "+1 202 555 0100"}
        for name, sub in published.items():
            assert sub["canonicalValues"] == ["work"] and sub["required"] is True
            assert f"holds {name} of type work only" in sub["description"]
            accepted = []
            for n, kind in enumerate([*canonical_types("User", name), None]):
                element = {"value": samples[name]} | ({"type": kind} if kind else {})
                body = new_user(f"schema-{name}-{n}@example.test", **{name: [element]})
                if http.post("/Users", json=body).status_code == 201:
                    accepted.append(kind)
            assert accepted == sub["canonicalValues"]


def test_a_user_s_group_types_are_the_ones_answered(typed: LiveServer) -> None:
    """Memberships are direct only (nested groups are not expanded): /Schemas lists "direct", not "indirect"."""
    with typed.client() as http:
        user = http.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
        ada = http.get("/Users", params={"filter": 'userName eq "ada@example.test"'}).json()["Resources"][0]
        group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Readers",
                 "members": [{"value": ada["id"]}]}  # fmt: skip
        assert http.post("/Groups", json=group).status_code == 201
        answered = http.get(f"/Users/{ada['id']}").json()["groups"]
    assert _type_of(user, "groups")["canonicalValues"] == ["direct"]
    assert {g["type"] for g in answered} == {"direct"}
