"""The erasure use case's rules (app/services/erasure.py) that the app and the command line share."""

from __future__ import annotations

import pytest

from app.core.errors import ConfigError
from app.directory.errors import ScimError
from app.erasure.model import State
from app.services import erasure
from app.services.erasure import TargetLine, can_attest, can_retry
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.erasure.support import person, service_for
from tests.policy_support import work_contacts_text


@pytest.mark.parametrize(
    ("target", "state", "attest", "retry"),
    [
        ("local", "erased", False, False),  # Custos' own erasure is never attested by hand
        ("source", "held", True, False),  # the IdP still holds the person: attest its removal there
        ("source", "removed", False, False),
        ("crm", State.WAITING_MANUAL, True, False),  # a manual target: a person does it, then attests
        ("crm", State.ACTION_REQUIRED, True, True),  # fixed by the operator: retry, or attest what they did
        ("crm", State.VERIFICATION_FAILED, True, True),
        ("crm", State.SUCCEEDED, False, False),
        ("crm", "mixed", True, True),  # the subjects are in different states: each step is judged when acted on
    ],
)
def test_which_steps_an_operator_may_attest_or_retry(target: str, state: str, attest: bool, retry: bool) -> None:
    line = TargetLine(target, str(state), "")
    assert (can_attest(line), can_retry(line)) == (attest, retry)


def test_the_preview_names_the_people_by_user_name_for_the_screen_only(vault: Vault) -> None:
    service = service_for(vault)
    ids = [str(service.create("User", person(name, given)).body["id"])  # type: ignore[index]
           for name, given in (("zoe@example.test", "Zoe"), ("adam@example.test", "Adam"))]  # fmt: skip
    service.close()
    seen = erasure.preview(vault, [*ids, "no-such-id"])
    assert (seen.subjects, seen.found) == (3, 2)
    assert seen.people == (("Adam Subject", "adam@example.test"), ("Zoe Subject", "zoe@example.test"))


def test_a_filter_is_read_through_the_policy_in_force(vault: Vault) -> None:
    service = service_for(vault)
    wanted = str(service.create("User", person("sel-a@example.test")).body["id"])  # type: ignore[index]
    service.create("User", person("other@example.test"))
    service.close()
    assert erasure.select_users(vault, 'userName sw "sel-"') == [wanted]
    with pytest.raises(ConfigError, match="'nickName' is not held under the agreed schema") as refused:
        erasure.select_users(vault, 'nickName eq "x"')
    assert not isinstance(refused.value, ScimError)  # a readable ConfigError for the CLI and the app, not a 400


def test_an_empty_filter_selects_nobody_for_erasure(vault: Vault) -> None:
    """Before: an empty filter was "no filter", so select_users("") chose every User for erasure."""
    service = service_for(vault)
    service.create("User", person("kept@example.test"))
    service.close()
    for empty in ("", "  "):
        with pytest.raises(ConfigError, match="The filter cannot select users: The filter is empty"):
            erasure.select_users(vault, empty)


def test_a_filter_on_a_type_the_policy_does_not_hold_is_refused(vault: Vault) -> None:
    """E-mails held for type work only: a home address is never stored, so a filter on one is refused, not "no
    User matches"; a filter on the work address selects the person."""
    apply_policy(vault, work_contacts_text(), "dpo")
    service = service_for(vault)
    wanted = str(service.create("User", person("sel-w@example.test")).body["id"])  # type: ignore[index]
    service.close()
    with pytest.raises(ConfigError) as refused:
        erasure.select_users(vault, 'emails[type eq "home"].value eq "sel-w@example.test"')
    assert str(refused.value) == (
        "The filter cannot select users: 'emails[type eq \"home\"]' is not held under the agreed schema (only "
        "emails of type work are held) and cannot be filtered on."
    )
    assert erasure.select_users(vault, 'emails[type eq "work"].value eq "sel-w@example.test"') == [wanted]


def test_history_counts_requests_still_held_at_the_identity_provider(vault: Vault) -> None:
    """A closed request whose person the identity provider still holds (decision 0020) is counted apart, and no
    longer once the source is attested: "0 still open" alone read as "all done"."""
    from app.erasure.worker import drive

    service = service_for(vault)
    subject_id = str(service.create("User", person("held@example.test")).body["id"])  # type: ignore[index]
    service.close()
    request_id = erasure.request(vault, [subject_id], "art17-1a", "dpo", "ticket 12")
    assert drive(vault, [request_id], 30)

    listed = erasure.history(vault)
    assert ([r[0] for r in listed.requests], listed.opened, listed.held_at_source) == ([request_id], 0, 1)
    erasure.attest(vault, request_id, None, "dpo", "Removed in the IdP, checked in its admin UI", source=True)
    assert erasure.history(vault).held_at_source == 0
