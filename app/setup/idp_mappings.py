"""Each identity provider's *default* attribute mappings, in one place: what the first run says the policy will
refuse before the first push, and what the Outside-the-policy page tells the IdP's administrator to remove, in
that IdP's own words (app/setup/idp_guides.py reads the User mappings from here).

A mapping is (resource type, the SCIM path it writes, the IdP's name for it). A multi-valued attribute keeps its
type filter (``phoneNumbers[type eq "mobile"].value``), which is how the IdP's console writes the target. Names
only: the values come from each tenant's directory.

Sources, checked against the vendors' own documentation:

* Microsoft Entra ID — Microsoft Learn, "Tutorial - Develop and plan provisioning for a SCIM endpoint in Microsoft
  Entra ID" (learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups), the
  tables of default user and group attribute mappings of a non-gallery application (source attribute → SCIM
  target, as the Mappings page lists them).
* Okta — Okta Developer, "Okta and SCIM Version 2.0" (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20,
  source in github.com/okta/okta-developer-docs, docs/reference/scim/scim-20): the create-user request Okta's SCIM
  2.0 template sends (userName, name.givenName, name.familyName, a primary work email, displayName, locale,
  externalId, active, plus groups and a placeholder password Custos never holds) and the create-group request
  (displayName, members). Okta's guide to a SCIM integration's attribute mappings ("Check the attributes and
  corresponding mappings") says the template comes with further base attributes but lists them only in
  screenshots, so they are not claimed here: the two lists this module replaces named title, phone numbers and
  addresses (and a longer one, honorifics to costCenter) without a source. What Okta sends beyond these shows on
  the Outside-the-policy page after the first push. Okta sets externalId (its user id) and active (the
  assignment) itself: they are not mappings an administrator can remove, hence no name.
"""

from __future__ import annotations

from typing import NamedTuple

from app.policy.minimise import Minimiser
from app.policy.model import Policy

_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class DefaultMapping(NamedTuple):
    resource_type: str
    target: str  # the SCIM path written, with the element's type where the IdP sets one
    name: str  # as the IdP's console shows the mapping; "" when the IdP sends it itself (not a removable mapping)


def _user(name: str, target: str) -> DefaultMapping:
    return DefaultMapping("User", target, name)


def _group(name: str, target: str) -> DefaultMapping:
    return DefaultMapping("Group", target, name)


def _entra(source: str, target: str) -> DefaultMapping:
    """Entra's Mappings page shows the source expression and the target attribute: both are the name."""
    return _user(f"{source} → {target}", target)


DEFAULT_MAPPINGS: dict[str, tuple[DefaultMapping, ...]] = {
    "entra": (
        _entra("userPrincipalName", "userName"),
        _entra("Switch([IsSoftDeleted], …)", "active"),
        _entra("displayName", "displayName"),
        _entra("jobTitle", "title"),
        _entra("mail", 'emails[type eq "work"].value'),
        _entra("preferredLanguage", "preferredLanguage"),
        _entra("givenName", "name.givenName"),
        _entra("surname", "name.familyName"),
        _entra('Join(" ", [givenName], [surname])', "name.formatted"),
        _entra("physicalDeliveryOfficeName", 'addresses[type eq "work"].formatted'),
        _entra("streetAddress", 'addresses[type eq "work"].streetAddress'),
        _entra("city", 'addresses[type eq "work"].locality'),
        _entra("state", 'addresses[type eq "work"].region'),
        _entra("postalCode", 'addresses[type eq "work"].postalCode'),
        _entra("country", 'addresses[type eq "work"].country'),
        _entra("telephoneNumber", 'phoneNumbers[type eq "work"].value'),
        _entra("mobile", 'phoneNumbers[type eq "mobile"].value'),
        _entra("facsimileTelephoneNumber", 'phoneNumbers[type eq "fax"].value'),
        _entra("mailNickname", "externalId"),
        _entra("employeeId", f"{_ENTERPRISE}:employeeNumber"),
        _entra("department", f"{_ENTERPRISE}:department"),
        _entra("manager", f"{_ENTERPRISE}:manager"),
        _group("displayName → displayName", "displayName"),
        _group("objectId → externalId", "externalId"),
        _group("members → members", "members"),
    ),
    "okta": (
        _user("userName", "userName"),
        _user("givenName", "name.givenName"),
        _user("familyName", "name.familyName"),
        _user("email", 'emails[type eq "work"].value'),
        _user("displayName", "displayName"),
        _user("locale", "locale"),
        _user("", "externalId"),
        _user("", "active"),
        _group("", "displayName"),
        _group("", "members"),
    ),
}


# The IdPs whose every default is listed above; of Okta's, only the documented ones are (see the module's text).
_EVERY_DEFAULT_LISTED = frozenset({"entra"})


def lists_every_default(idp: str) -> bool:
    """True when any other mapping found in that IdP is one an administrator added (a custom one)."""
    return idp in _EVERY_DEFAULT_LISTED


def user_mappings(idp: str) -> tuple[tuple[str, str], ...]:
    """(name, target) of the IdP's User mappings an administrator can remove, for its guide."""
    return tuple((m.name, m.target) for m in DEFAULT_MAPPINGS.get(idp, ()) if m.resource_type == "User" and m.name)


def sent_by_itself(idp: str) -> tuple[str, ...]:
    """The User paths the IdP sends whatever its mappings say (Okta's externalId and active)."""
    return tuple(m.target for m in DEFAULT_MAPPINGS.get(idp, ()) if m.resource_type == "User" and not m.name)


def refused_default_mappings(idp: str, policy: Policy) -> list[str]:
    """The IdP's default mappings the policy does not hold, as the IdP names them ("Group displayName" for
    groups); empty for an IdP whose defaults are not known here. Type filters count: a catalogue entry for work
    phone numbers holds ``phoneNumbers[type eq "work"].value`` and not ``phoneNumbers[type eq "mobile"].value``."""
    minimiser = Minimiser(policy)
    return [
        m.target if m.resource_type == "User" else f"Group {m.target}"
        for m in DEFAULT_MAPPINGS.get(idp, ())
        if not minimiser.admits(m.resource_type, m.target)
    ]
