"""Each IdP's default attribute mappings and the instruction to remove the ones the policy refuses (issue 14 §2)."""

from __future__ import annotations

from app.policy.loader import load_policy
from app.policy.outside import base_path
from app.policy.paths import resolve_path
from app.policy.versions import default_policy_text
from app.setup.idp_guides import GUIDES, guide, guide_for_client, mappings_to_remove, removal_instruction
from app.setup.idp_mappings import DEFAULT_MAPPINGS, refused_default_mappings

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# What the shipped policy refuses from an Entra default user (tests/audit/test_outside_policy.py records them).
ENTRA_REFUSED = [
    'addresses[type eq "work"]',
    "name.formatted",
    'phoneNumbers[type eq "fax"]',
    'phoneNumbers[type eq "mobile"]',
    'phoneNumbers[type eq "work"]',
    "preferredLanguage",
    f"{ENTERPRISE}:employeeNumber",
]


def test_entra_instruction_names_the_exact_default_mappings() -> None:
    text = removal_instruction(guide("entra"), ENTRA_REFUSED)
    assert text.startswith("In Microsoft Entra ID: Enterprise applications → your application → Provisioning → "
                           "Mappings → Provision Microsoft Entra ID Users → remove these 12 mappings:")  # fmt: skip
    for name in (
        'mobile → phoneNumbers[type eq "mobile"].value',
        'city → addresses[type eq "work"].locality',
        'Join(" ", [givenName], [surname]) → name.formatted',
        f"employeeId → {ENTERPRISE}:employeeNumber",
        "preferredLanguage → preferredLanguage",
    ):
        assert f"  - {name}" in text
    assert "mail → emails" not in text and "givenName → name.givenName" not in text  # held: kept


def test_a_type_limits_the_mappings_and_no_type_means_all() -> None:
    entra = guide("entra")
    assert mappings_to_remove(entra, ['phoneNumbers[type eq "fax"]']) == [
        'facsimileTelephoneNumber → phoneNumbers[type eq "fax"].value'
    ]
    assert len(mappings_to_remove(entra, ["phoneNumbers"])) == 3


def test_an_element_refused_for_lacking_a_type_removes_no_typed_mapping() -> None:
    """With work e-mails held, an e-mail sent without a type is refused as ``emails[type missing]``: the advice
    must not be to remove Entra's ``mail → emails[type eq "work"].value``, the very mapping the policy allows."""
    entra = guide("entra")
    assert mappings_to_remove(entra, ["emails[type missing]"]) == []
    assert base_path("emails[type missing]") == "emails"


def test_an_idp_without_known_defaults_gets_the_scim_targets() -> None:
    text = removal_instruction(guide("jumpcloud"), ["preferredLanguage"])
    assert "Custos has no list of JumpCloud's default mapping names" in text and "  - preferredLanguage" in text


def test_unknown_paths_are_still_listed() -> None:
    text = removal_instruction(guide("entra"), ["nickName", "preferredLanguage"])
    assert "→ remove this mapping:\n  - preferredLanguage → preferredLanguage" in text
    assert "custom mapping whose target attribute is: nickName" in text


def test_the_client_token_names_the_idp() -> None:
    assert guide_for_client("Microsoft Entra ID").key == "entra"
    assert guide_for_client("entra-prod").key == "entra"
    assert guide_for_client("okta-prod").key == "okta"
    assert guide_for_client("hr-system").key == "other"


def test_every_default_mapping_target_exists_in_the_schema() -> None:
    for item in GUIDES:
        for name, target in item.default_mappings:
            assert resolve_path("User", base_path(target)) is not None, (item.key, name)


def test_the_first_run_and_the_instruction_read_one_list() -> None:
    """What the first run says the policy refuses is exactly what the Outside page's instruction removes (before,
    two lists: Okta's first-run list named 13 User mappings, its instruction list 27, and they disagreed)."""
    policy = load_policy(default_policy_text())
    for key in ("entra", "okta"):
        refused = [p for p in refused_default_mappings(key, policy) if not p.startswith("Group ")]
        removed = mappings_to_remove(guide(key), refused)
        named = {target for name, target in guide(key).default_mappings if name in removed}
        assert named == set(refused), key
        listed = {m.target for m in DEFAULT_MAPPINGS[key] if m.resource_type == "User" and m.name}
        assert {target for _name, target in guide(key).default_mappings} == listed


def test_okta_is_told_what_it_sends_itself_and_what_may_be_another_default() -> None:
    text = removal_instruction(guide("okta"), ["locale", "title", "externalId"])
    assert text.startswith("In Okta: Applications → your application → Provisioning → To App → Attribute Mappings "
                           "→ remove this mapping:\n  - locale\n")  # fmt: skip
    assert "Also remove any other mapping whose target attribute is: title." in text  # maybe an undocumented default
    assert "Okta sends externalId itself, whatever the mappings say: keep it in the Custos catalogue" in text


def test_an_element_without_a_type_is_told_to_send_a_type_not_to_remove_a_made_up_target() -> None:
    """Before: "remove the … mappings whose SCIM target attribute is one of these: phoneNumbers[type missing]" —
    no mapping has that target; the one that sends the number untyped must name a type the policy holds."""
    text = removal_instruction(guide("entra"), ["phoneNumbers[type missing]", "preferredLanguage"])
    first, second = text.splitlines()[0], text.splitlines()[-1]
    assert first.endswith("→ remove this mapping:") and "[type missing]" not in text
    assert second == (
        "In Microsoft Entra ID: Enterprise applications → your application → Provisioning → Mappings → Provision "
        "Microsoft Entra ID Users → the mapping whose target attribute is phoneNumbers or phoneNumbers.value (with "
        'no [type eq "…"]) sends phoneNumbers without a type, which the Custos policy cannot hold: change its target '
        'to phoneNumbers[type eq "…"].value with a type the policy holds, or remove it.'
    )
    alone = removal_instruction(guide("jumpcloud"), ["emails[type missing]"])
    assert alone.startswith("In JumpCloud → the mapping whose target attribute is emails or emails.value")
