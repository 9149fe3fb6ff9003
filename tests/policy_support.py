"""Policies for tests: the shipped default, and a catalogue holding every SCIM attribute.

Protocol tests (filters, PATCH, IdP replays, conformance) exercise every attribute RFC 7643 defines, so their
vaults run under the full catalogue; minimisation has its own tests under the default and purpose-made policies.
"""

from __future__ import annotations

from app.directory.schema import schema_for
from app.policy.paths import NOT_HOLDABLE
from app.store.vault import Vault
from app.targets.policy_change import apply_policy

_HEADER = """format = 1
title = "Test: every SCIM attribute"
outside_schema = "{mode}"

[controller]
name = "Test Controller Ltd"
address = "1 Test Street, Testville"
email = "dpo@controller.example.test"

[dpo]
name = "Test DPO"
address = "1 Test Street, Testville"
email = "dpo@controller.example.test"

[[purposes]]
id = "testing"
name = "Protocol testing"
lawful_basis = "legitimate_interests"
legitimate_interest = "Testing the SCIM protocol"
data_subjects = ["Test accounts"]
deactivated_account_retention = {{ period = "P30D", justification = "test" }}

[[categories]]
id = "all"
name = "All attributes"
retention = {{ period = "account", justification = "test" }}
"""


def full_catalogue_text(mode: str = "reject") -> str:
    entries = [_HEADER.format(mode=mode)]
    for resource_type in ("User", "Group"):
        schema = schema_for(resource_type)
        for uri in schema.all_schemas():
            for definition in schema.attributes[uri].values():
                if definition.name.lower() in NOT_HOLDABLE:
                    continue
                path = definition.name if uri == schema.core else f"{uri}:{definition.name}"
                entries.append(
                    f'[[attributes]]\nresource = "{resource_type}"\npath = "{path}"\n'
                    'category = "all"\npurposes = ["testing"]\n'
                )
        entries.append(
            f'[[attributes]]\nresource = "{resource_type}"\npath = "externalId"\n'
            'category = "all"\npurposes = ["testing"]\n'
        )
    return "\n".join(entries)


def hold_everything(vault: Vault, mode: str = "reject") -> None:
    apply_policy(vault, full_catalogue_text(mode), "test-setup")


def work_contacts_text(mode: str = "reject") -> str:
    """The shipped default with e-mails and phone numbers held for type work only (decision 0028 type filters)."""
    from app.policy import versions
    from app.policy.edit import set_outside_schema

    typed = set_outside_schema(versions.default_policy_text(), mode).replace(
        'path = "emails.value"', 'path = "emails.value"\ntypes = ["work"]'
    )
    assert typed.count('types = ["work"]') == 1, "the shipped default no longer lists emails.value"
    return typed + (
        '\n[[attributes]]\npath = "phoneNumbers.value"\ntypes = ["work"]\ncategory = "work-contact"\n'
        'purposes = ["internal-directory"]\n'
    )
