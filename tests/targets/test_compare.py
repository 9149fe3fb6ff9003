"""What counts as held beyond a recipient's mapping (app/targets/compare.py), which the push removes with a PATCH
and the reconcile reports as drift."""

from __future__ import annotations

from app.targets.compare import differences

SENT = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u1", "name": {"givenName": "Ada"}}


def test_an_account_state_the_target_keeps_is_not_data_beyond_the_mapping() -> None:
    """A recipient that is not sent ``active`` (Okta's apps answer ``"active": true`` for every account): the push
    PATCHed a ``remove`` of it after every PUT and recorded provision.beyond_mapping each time."""
    held = {**SENT, "id": "r1", "active": True, "meta": {"resourceType": "User"}}
    assert differences(SENT, held) == ([], [])


def test_personal_data_the_target_keeps_is_still_beyond_the_mapping() -> None:
    held = {**SENT, "active": True, "title": "Engineer", "name": {"givenName": "Ada", "middleName": "B"}}
    assert differences(SENT, held) == ([], ["name.middleName", "title"])


def test_an_active_flag_that_was_sent_is_compared() -> None:
    sent = {**SENT, "active": False}
    assert differences(sent, {**sent, "active": True}) == (["active"], [])
