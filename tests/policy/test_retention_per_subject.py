"""Issue 12 §4: a deactivated account is kept for the periods of the purposes that apply to *its* subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, update

from app.core.events import EventBus
from app.erasure.retention import run_once
from app.policy.in_force import PolicyInForce
from app.policy.loader import load_policy
from app.policy.model import Policy, Purpose
from app.policy.scope import all_purposes
from app.policy.versions import default_policy_text
from app.scim.service import ScimService
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import new_user
from tests.policy.test_retention import DEACTIVATED, documents

DIRECTORY_FOR_A_YEAR = default_policy_text().replace(
    'deactivated_account_retention = { period = "P30D", justification = "Same as the account" }',
    'deactivated_account_retention = { period = "P1Y", justification = "Alumni directory for a year" }',
)


def directory_only_with_an_email(
    conn: Connection, policy: Policy, subject_id: str, document: dict[str, Any]
) -> tuple[Purpose, ...]:
    """A stand-in for a purpose scope (issue 12 §3): the directory concerns only people with a work e-mail."""
    return tuple(p for p in policy.purposes if p.id != "internal-directory" or document.get("emails"))


def seed(vault: Vault) -> dict[str, str]:
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        staff = new_user("staff@example.test", active=False, emails=[{"value": "staff@example.test"}])
        ids = {
            "staff": service.create("User", staff).body,
            "contractor": service.create("User", new_user("contractor@example.test", active=False)).body,
        }
    finally:
        service.close()
    result = {name: str(body["id"]) for name, body in ids.items()}  # type: ignore[index]
    with vault.write_transaction() as conn:
        table = ScimResource.__table__
        conn.execute(update(table).where(table.c.id.in_(result.values())).values(deactivated_at=DEACTIVATED))
    return result


def test_each_subject_is_kept_for_its_own_purposes(vault: Vault) -> None:
    apply_policy(vault, DIRECTORY_FOR_A_YEAR, "dpo")
    ids = seed(vault)
    policy = PolicyInForce(vault)
    day_31 = DEACTIVATED + timedelta(days=31)

    assert [p for p in run_once(vault, policy, day_31, scope=all_purposes) if p.kind == "accounts"] == []

    purges = run_once(vault, policy, day_31, scope=directory_only_with_an_email)
    assert [(p.kind, p.subjects, p.period) for p in purges if p.kind == "accounts"] == [("accounts", 1, "P30D")]
    assert set(documents(vault)) == {ids["staff"]}  # the directory's year applies only to whom it concerns

    purges = run_once(vault, policy, DEACTIVATED + timedelta(days=366), scope=directory_only_with_an_email)
    assert [(p.kind, p.subjects, p.period) for p in purges if p.kind == "accounts"] == [("accounts", 1, "P1Y")]
    assert documents(vault) == {}


def test_an_indefinite_purpose_keeps_accounts_and_says_why(vault: Vault) -> None:
    text = DIRECTORY_FOR_A_YEAR.replace(
        '{ period = "P1Y", justification = "Alumni directory for a year" }',
        '{ period = "indefinite", justification = "Statutory archive (§ 257 HGB) until the archive job exists" }',
    )
    policy = load_policy(text)
    assert policy.account_retention() is None
    assert "indefinite" in policy.purposes[1].deactivated_account_retention.describe()
    apply_policy(vault, text, "dpo")
    ids = seed(vault)
    run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=3650))
    assert set(ids.values()) <= set(documents(vault))

    mine = run_once(
        vault, PolicyInForce(vault), datetime(2036, 1, 1, tzinfo=UTC), scope=directory_only_with_an_email
    )
    assert [(p.kind, p.subjects) for p in mine if p.kind == "accounts"] == [("accounts", 1)]  # the contractor


def test_the_policy_s_own_purpose_scope_decides(vault: Vault) -> None:
    """The purpose's ``scope`` from the policy, evaluated by the SQL provisioning uses (policy/recipient_scope.py)."""
    scoped = DIRECTORY_FOR_A_YEAR.replace(
        'deactivated_account_retention = { period = "P1Y", justification = "Alumni directory for a year" }',
        'deactivated_account_retention = { period = "P1Y", justification = "Alumni directory for a year" }\n'
        "scope = { filter = 'emails pr' }",
    )
    apply_policy(vault, scoped, "dpo")
    ids = seed(vault)
    purges = run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=31))  # the default scope
    assert [(p.kind, p.subjects, p.period) for p in purges if p.kind == "accounts"] == [("accounts", 1, "P30D")]
    assert set(documents(vault)) == {ids["staff"]}


def test_a_purpose_scope_decides_whose_account_the_longer_period_keeps(vault: Vault) -> None:
    """Issue 12 §3 + §4: the directory's year applies only to the members of the group its scope names."""
    import tomlkit

    from app.directory.schema import GROUP_SCHEMA

    document = tomlkit.parse(DIRECTORY_FOR_A_YEAR)
    for purpose in document["purposes"]:
        if purpose["id"] == "internal-directory":
            purpose["scope"] = {"groups": ["Alumni"]}
    apply_policy(vault, tomlkit.dumps(document), "dpo")
    ids = seed(vault)
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    alumni = {"schemas": [GROUP_SCHEMA], "displayName": "alumni", "members": [{"value": ids["staff"]}]}
    group_id = str(service.create("Group", alumni).body["id"])  # type: ignore[index]
    service.close()

    purges = run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=31))  # the default scope
    assert [(p.kind, p.subjects, p.period) for p in purges if p.kind == "accounts"] == [("accounts", 1, "P30D")]
    assert set(documents(vault)) == {ids["staff"], group_id}  # an alumnus: kept for the directory's year
