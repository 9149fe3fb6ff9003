"""Which of an identity provider's *default* attribute mappings a policy will refuse (or strip), said before the
first push rather than discovered in the audit trail after it.

The names are the SCIM target attributes each vendor's console maps by default for a new custom SCIM 2.0
application, as their public documentation lists them at the time of writing (names only; the source
attributes on the IdP side differ per tenant). Microsoft Entra ID: "Tutorial - Develop and plan provisioning for
a SCIM endpoint", default user and group attribute mappings. Okta: the base attributes of a SCIM 2.0 app
integration's "To App" mappings. A multi-valued attribute keeps its type filter (``phoneNumbers[type eq
"mobile"].value``), which is the name the IdP's console shows.
"""

from __future__ import annotations

import re

from app.policy.model import Policy
from app.policy.paths import resolve_path

_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"

DEFAULT_MAPPINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "entra": (
        ("User", "userName"),
        ("User", "active"),
        ("User", "displayName"),
        ("User", "title"),
        ("User", 'emails[type eq "work"].value'),
        ("User", "preferredLanguage"),
        ("User", "name.givenName"),
        ("User", "name.familyName"),
        ("User", "name.formatted"),
        ("User", 'addresses[type eq "work"].formatted'),
        ("User", 'addresses[type eq "work"].streetAddress'),
        ("User", 'addresses[type eq "work"].locality'),
        ("User", 'addresses[type eq "work"].region'),
        ("User", 'addresses[type eq "work"].postalCode'),
        ("User", 'addresses[type eq "work"].country'),
        ("User", 'phoneNumbers[type eq "work"].value'),
        ("User", 'phoneNumbers[type eq "mobile"].value'),
        ("User", 'phoneNumbers[type eq "fax"].value'),
        ("User", "externalId"),
        ("User", f"{_ENTERPRISE}employeeNumber"),
        ("User", f"{_ENTERPRISE}department"),
        ("User", f"{_ENTERPRISE}manager"),
        ("Group", "displayName"),
        ("Group", "externalId"),
        ("Group", "members"),
    ),
    "okta": (
        ("User", "userName"),
        ("User", "externalId"),
        ("User", "active"),
        ("User", "displayName"),
        ("User", "name.givenName"),
        ("User", "name.familyName"),
        ("User", 'emails[type eq "work"].value'),
        ("User", "locale"),
        ("User", "title"),
        ("User", 'phoneNumbers[type eq "work"].value'),
        ("User", 'phoneNumbers[type eq "mobile"].value'),
        ("User", 'addresses[type eq "work"].streetAddress'),
        ("User", 'addresses[type eq "work"].locality'),
        ("User", 'addresses[type eq "work"].region'),
        ("User", 'addresses[type eq "work"].postalCode'),
        ("User", 'addresses[type eq "work"].country'),
        ("Group", "displayName"),
        ("Group", "members"),
    ),
}

_FILTER = re.compile(r"\[[^\]]*\]")


def held(policy: Policy, resource_type: str, path: str) -> bool:
    """Whether the catalogue holds ``path`` (with or without a type filter): as an entry of its own, or as part
    of the whole complex attribute listed."""
    resolved = resolve_path(resource_type, _FILTER.sub("", path))
    if resolved is None:
        return False
    keys = {rule.key for rule in policy.rules_for(resource_type)}
    return resolved.index_path in keys or resolved.prefix + resolved.top.name.lower() in keys


def refused_default_mappings(idp: str, policy: Policy) -> list[str]:
    """The IdP's default mappings the policy does not hold, as the IdP names them ("Group displayName" for
    groups); empty for an IdP whose defaults are not known here."""
    return [
        path if resource_type == "User" else f"Group {path}"
        for resource_type, path in DEFAULT_MAPPINGS.get(idp, ())
        if not held(policy, resource_type, path)
    ]
