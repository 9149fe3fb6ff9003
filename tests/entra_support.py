"""Users shaped like Microsoft Entra ID's default attribute mappings (the provisioning job's defaults, not a
tenant's customisation): what a new DPO's first push looks like under the shipped policy."""

from __future__ import annotations

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MOBILE = "+44 7700 900{n:03d}"  # values that must never reach the trail, a log line or a screen of names


def entra_default_user(n: int) -> dict[str, object]:
    given, family = f"Given{n:04d}", f"Family{n:04d}"
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": f"user{n:04d}",
        "userName": f"user-{n:04d}@example.test",
        "active": True,
        "displayName": f"{given} {family}",
        "title": "Engineer",
        "preferredLanguage": "en-GB",
        "emails": [{"primary": True, "type": "work", "value": f"user-{n:04d}@example.test"}],
        "name": {"formatted": f"{given} {family}", "givenName": given, "familyName": family},
        "phoneNumbers": [
            {"type": "work", "value": f"+44 20 7946 0{n:03d}"},
            {"type": "mobile", "value": MOBILE.format(n=n)},
            {"type": "fax", "value": f"+44 20 7946 1{n:03d}"},
        ],
        "addresses": [{"type": "work", "formatted": "Building 4", "locality": "London", "country": "GB"}],
        ENTERPRISE: {"employeeNumber": f"{n:06d}", "department": "Research"},
    }
