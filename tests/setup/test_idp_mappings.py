"""Each IdP's default attribute mappings and the instruction to remove the ones the policy refuses (issue 14 §2)."""

from __future__ import annotations

from app.policy.outside import base_path
from app.policy.paths import resolve_path
from app.setup.idp_guides import GUIDES, guide, guide_for_client, mappings_to_remove, removal_instruction

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
