"""Type filters in the catalogue (issue 14 §2): "allowing phoneNumbers of type work must not admit mobile and fax".

The endpoint is the real server over HTTPS on loopback with a real SQLCipher vault, in reject and strip mode;
after each request the database itself is read. The loader's messages, the impact preview, the policy diff and the
Art. 30 record name the typed entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from app.audit.trail import of_kind
from app.core.events import EventBus
from app.exports.facts import gather_facts
from app.exports.ropa import build_ropa
from app.policy import versions
from app.policy.apply import preview
from app.policy.diff import diff_versions
from app.policy.edit import add_attribute, set_outside_schema
from app.policy.in_force import PolicyInForce
from app.policy.loader import check_policy, load_policy
from app.policy.minimise import Minimiser
from app.scim.server import ScimServer
from app.scim.service import ScimService
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.models import AttributeValue, ScimResource, with_paths
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import ENTERPRISE, LiveServer, VaultTemplate, new_user, patch_body

WORK, MOBILE, FAX = "+44 20 7946 0000", "+44 7700 900123", "+44 20 7946 1000"
WORK_PHONES = """
[[attributes]]
path = "phoneNumbers.value"
types = ["work"]
category = "work-contact"
purposes = ["internal-directory"]
"""


def typed_policy(mode: str = "reject", entry: str = WORK_PHONES) -> str:
    return set_outside_schema(versions.default_policy_text(), mode) + entry


def phones(*kinds: str) -> list[dict[str, str]]:
    values = {"work": WORK, "mobile": MOBILE, "fax": FAX}
    return [{"type": kind, "value": values[kind]} for kind in kinds]


@pytest.fixture(scope="module", params=["reject", "strip"])
def typed_live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, vault_template: VaultTemplate
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"types-{request.param}")
    vault = vault_template.open_copy(folder)
    apply_policy(vault, typed_policy(request.param), "dpo")
    _, token = TokenStore(vault).create("Microsoft Entra ID")
    tls = ensure_self_signed(folder)
    server = ScimServer(vault, tls=tls, bus=EventBus())
    server.start()
    live = LiveServer(server, token, tls.cert_path, folder)
    live.mode = request.param  # type: ignore[attr-defined]
    yield live
    server.stop()
    vault.close()


def stored(vault: Vault, user_name: str) -> dict[str, object] | None:
    with vault.read_connection() as conn:
        for (document,) in conn.execute(select(ScimResource.document)):
            parsed = json.loads(document)
            if parsed.get("userName") == user_name:
                return parsed  # type: ignore[no-any-return]
    return None


def indexed_values(vault: Vault) -> str:
    with vault.read_connection() as conn:
        # value_str is kept only for case-exact attributes (decision 0030): the folded value says what is indexed
        value = func.coalesce(AttributeValue.value_str, AttributeValue.value_ci)
        return json.dumps([list(row) for row in conn.execute(with_paths(value))])


def test_work_and_mobile_numbers_are_refused_or_stripped_to_work_only(typed_live: LiveServer) -> None:
    mode = typed_live.mode  # type: ignore[attr-defined]
    vault = typed_live.server.vault
    with typed_live.client() as http:
        body = new_user(f"both-{mode}@example.test", phoneNumbers=phones("work", "mobile"))
        response = http.post("/Users", json=body)
        with vault.read_connection() as conn:
            events = of_kind(conn, "scim.attributes.rejected" if mode == "reject" else "scim.attributes.stripped")
    document = stored(vault, f"both-{mode}@example.test")
    if mode == "reject":
        assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
        detail = response.json()["detail"]
        assert "'phoneNumbers[type eq \"mobile\"]' is outside the agreed schema" in detail
        assert document is None
    else:
        assert response.status_code == 201, response.text
        assert response.json()["phoneNumbers"] == [{"type": "work", "value": WORK}]
        assert document is not None and document["phoneNumbers"] == [{"type": "work", "value": WORK}]
    # The refused typed path is on the trail, never a value; the work number is not named as refused.
    assert events[-1].details["paths"] == ['phoneNumbers[type eq "mobile"]']
    assert MOBILE not in json.dumps([e.details for e in events]) and WORK not in json.dumps([e.details for e in events])
    assert MOBILE not in indexed_values(vault)


def test_a_work_number_alone_is_stored_in_both_modes(typed_live: LiveServer) -> None:
    mode = typed_live.mode  # type: ignore[attr-defined]
    with typed_live.client() as http:
        response = http.post("/Users", json=new_user(f"work-{mode}@example.test", phoneNumbers=phones("work")))
        assert response.status_code == 201, response.text
        found = http.get("/Users", params={"filter": f'phoneNumbers.value eq "{WORK}"'}).json()
    assert f"work-{mode}@example.test" in {r["userName"] for r in found["Resources"]}
    assert WORK in indexed_values(typed_live.server.vault)


def test_fax_and_untyped_numbers_are_outside_too(typed_live: LiveServer) -> None:
    """A filter names what it holds: an element without a type is not of type work."""
    mode = typed_live.mode  # type: ignore[attr-defined]
    body = new_user(f"fax-{mode}@example.test", phoneNumbers=[*phones("fax", "work"), {"value": "+44 1632 960000"}])
    with typed_live.client() as http:
        response = http.post("/Users", json=body)
    document = stored(typed_live.server.vault, f"fax-{mode}@example.test")
    if mode == "reject":
        assert response.status_code == 400
        # the untyped number is named as such: as the bare 'phoneNumbers' it read as if no number were held
        assert "'phoneNumbers[type eq \"fax\"]', 'phoneNumbers[type missing]' are outside" in response.json()["detail"]
    else:
        assert document is not None and document["phoneNumbers"] == [{"type": "work", "value": WORK}]


def test_patch_adding_a_mobile_number_keeps_the_work_one(typed_live: LiveServer) -> None:
    mode = typed_live.mode  # type: ignore[attr-defined]
    vault = typed_live.server.vault
    with typed_live.client() as http:
        created = http.post("/Users", json=new_user(f"patch-{mode}@example.test", phoneNumbers=phones("work")))
        user_id = created.json()["id"]
        body = patch_body({"op": "add", "path": "phoneNumbers", "value": phones("mobile")})
        response = http.patch(f"/Users/{user_id}", json=body)
    document = stored(vault, f"patch-{mode}@example.test")
    assert document is not None and document["phoneNumbers"] == [{"type": "work", "value": WORK}]
    assert response.status_code == (400 if mode == "reject" else 200), response.text
    assert MOBILE not in indexed_values(vault)


# -- the loader -----------------------------------------------------------------------------------------------
def errors(text: str) -> list[str]:
    return [p.message for p in check_policy(text)[1] if not p.warning]


def test_the_loader_reads_types_as_the_schema_spells_them() -> None:
    rule = next(r for r in load_policy(typed_policy(entry=WORK_PHONES.replace('"work"', '"Work", "MOBILE"'))).attributes
                if r.path == "phoneNumbers.value")  # fmt: skip
    assert rule.types == ("work", "mobile")
    assert rule.label == 'phoneNumbers[type eq "work" or type eq "mobile"].value'


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('types = ["work"]', 'types = ["cell"]'), "'cell' is not a type of phoneNumbers: one of work, home, mobile, "
                                                   "fax, pager, other"),
        (('types = ["work"]', "types = []"), "'types' is empty: name at least one type, or leave 'types' out"),
        (('types = ["work"]', 'types = "work"'), "'types' must be a list of text, such as [\"work\"]"),
        (('path = "phoneNumbers.value"', 'path = "preferredLanguage"'),
         "'preferredLanguage' has no types to filter by: 'types' applies to emails, phoneNumbers, ims, photos, "
         "addresses of a User"),
    ],
)  # fmt: skip
def test_the_loader_explains_a_wrong_type_filter(change: tuple[str, str], message: str) -> None:
    found = errors(typed_policy(entry=WORK_PHONES.replace(*change)))
    assert len(found) == 1 and found[0].startswith(message), found


def test_group_members_cannot_be_filtered_by_type() -> None:
    text = versions.default_policy_text().replace('path = "members"', 'path = "members"\ntypes = ["User"]')
    assert any("'members' has no types to filter by" in m for m in errors(text))


# -- impact, diff, Art. 30 --------------------------------------------------------------------------------------
def test_narrowing_to_work_names_what_the_purge_takes(vault: Vault) -> None:
    every_type = WORK_PHONES.replace('types = ["work"]\n', "")
    apply_policy(vault, typed_policy(entry=every_type), "dpo")
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        assert service.create("User", new_user("a@example.test", phoneNumbers=phones("work", "mobile"))).status == 201
    finally:
        service.close()
    with vault.read_connection() as conn:
        impact = preview(conn, typed_policy())
    assert impact.removed == {'User phoneNumbers[type eq "mobile"]': 1}
    assert impact.lines()[0] == (
        '1 stored user holds `phoneNumbers[type eq "mobile"]`, which this version no longer allows: '
        "it will be removed from it."
    )
    assert "`User phoneNumbers.value` now holds work (was every type)." in impact.lines()
    apply_policy(vault, typed_policy(), "dpo")
    document = stored(vault, "a@example.test")
    assert document is not None and document["phoneNumbers"] == [{"type": "work", "value": WORK}]
    with vault.read_connection() as conn:
        history = versions.history(conn)
    assert "Attribute changed: User phoneNumbers[type eq \"work\"].value (was phoneNumbers.value)" in (
        diff_versions(history[0], history[1]).summary
    )
    with vault.read_connection() as conn:
        applied = of_kind(conn, "policy.applied")[0]  # newest first
    # on the trail too: a narrowing changes what is held as much as an entry added or removed
    assert applied.details["types_changed"] == [
        {"attribute": "User phoneNumbers.value", "was": "every type", "now": ["work"]}
    ]


def test_an_extension_attribute_is_named_whole_in_the_impact(vault: Vault) -> None:
    """Was: "1 stored user holds `urn:ietf:params:scim:schemas:extension:enterprise:2`" (cut at "2.0"), and the
    entry listed as held by no stored data."""
    extra = f'\n[[attributes]]\npath = "{ENTERPRISE}:employeeNumber"\ncategory = "employment"\n'
    extra += 'purposes = ["internal-directory"]\n'
    apply_policy(vault, versions.default_policy_text() + extra, "dpo")
    minimiser = Minimiser(load_policy(versions.default_policy_text() + extra))
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        user = new_user("b@example.test")
        user["schemas"] = [*user["schemas"], ENTERPRISE]  # type: ignore[list-item]
        user[ENTERPRISE] = {"employeeNumber": "000042"}
        assert service.create("User", user).status == 201
    finally:
        service.close()
    assert minimiser.holds_anything("User")
    with vault.read_connection() as conn:
        lines = preview(conn, versions.default_policy_text()).lines()
    assert lines == [
        f"1 stored user holds `{ENTERPRISE}:employeeNumber`, which this version no longer allows: "
        "it will be removed from it."
    ]


def test_the_art30_record_and_the_added_entry_name_the_type(vault: Vault) -> None:
    apply_policy(vault, versions.default_policy_text(), "dpo")
    text = add_attribute(
        versions.default_policy_text(), "User", "phoneNumbers.value", "work-contact", ["internal-directory"],
        "Colleagues call each other", ["work"],
    )  # fmt: skip
    assert 'path = "phoneNumbers.value"\ntypes = ["work"]\ncategory = "work-contact"' in text
    with vault.read_connection() as conn:
        assert preview(conn, text).added == ['User phoneNumbers[type eq "work"].value']
    record, _ = apply_policy(vault, text, "dpo")
    ropa = build_ropa(record, gather_facts(vault, policy=record.policy), record.applied_at)
    keys = [c.key for c in ropa.columns]
    rows = {a.id: dict(zip(keys, a.cells, strict=True)) for a in ropa.activities}
    row = rows["internal-directory/work-contact"]
    assert 'phoneNumbers[type eq "work"].value' in row["personal_data"]


def test_schemas_publish_only_the_types_held(typed_live: LiveServer) -> None:
    with typed_live.client() as http:
        user = next(s for s in http.get("/Schemas").json()["Resources"] if s["id"].endswith(":core:2.0:User"))
    phone = next(a for a in user["attributes"] if a["name"] == "phoneNumbers")
    assert next(s for s in phone["subAttributes"] if s["name"] == "type")["canonicalValues"] == ["work"]
    emails = next(a for a in user["attributes"] if a["name"] == "emails")  # no filter: every type stays agreed
    email_type = next(s for s in emails["subAttributes"] if s["name"] == "type")
    assert email_type["canonicalValues"] == ["work", "home", "other"]
    assert email_type["required"] is False  # an untyped e-mail is held: only a type filter makes the type required


def test_a_recipient_of_the_typed_entry_is_sent_the_work_number_only() -> None:
    """Targets are sent through the same minimiser: a mobile number held nowhere is sent nowhere."""
    from app.policy.edit import add_recipient
    from app.targets.mapping import mapping_for

    recipient = {"id": "phonebook", "name": "Phone book", "kind": "internal", "country": "DE",
                 "purposes": ["internal-directory"], "attributes": ["userName", "phoneNumbers.value"]}  # fmt: skip
    policy = load_policy(add_recipient(typed_policy(), recipient))
    payload = mapping_for(policy, "phonebook").payload(
        "User", new_user("c@example.test", phoneNumbers=phones("mobile", "work", "fax"))
    )
    assert payload["phoneNumbers"] == [{"type": "work", "value": WORK}]
    from app.targets.service import preview  # what the target dialog shows before it is added

    assert 'User phoneNumbers[type eq "work"].value' in [m.sent_as for m in preview(policy, "phonebook")]


def test_a_part_refused_of_an_untyped_entry_keeps_its_sub_attribute_name() -> None:
    """Only an element dropped for its type is named as the element: an e-mail without its held value is refused
    for its display name, and the row says so (and stays outside until emails.display is decided)."""
    minimiser = Minimiser(load_policy(typed_policy()))
    document = new_user("d@example.test", emails=[{"type": "work", "display": "D"}],
                        phoneNumbers=[{"type": "mobile", "value": MOBILE, "display": "M"}])  # fmt: skip
    result = minimiser.minimise("User", document)
    assert result.paths == ['emails[type eq "work"].display', 'phoneNumbers[type eq "mobile"]']
    assert not minimiser.admits("User", 'emails[type eq "work"].display')
    assert not minimiser.admits("User", 'phoneNumbers[type eq "mobile"]')
