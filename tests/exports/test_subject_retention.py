"""Issue 12 §4 in the subject access export: the account retention stated is this person's own."""

from __future__ import annotations

from datetime import UTC, datetime

from app.exports.subject import build_subject_export
from app.policy import versions
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.policy.test_retention_per_subject import DIRECTORY_FOR_A_YEAR, seed

NOW = datetime(2026, 3, 10, tzinfo=UTC)
SCOPED = DIRECTORY_FOR_A_YEAR.replace(
    'deactivated_account_retention = { period = "P1Y", justification = "Alumni directory for a year" }',
    'deactivated_account_retention = { period = "P1Y", justification = "Alumni directory for a year" }\n'
    "scope = { filter = 'emails pr' }",
)


def subject_of(vault: Vault, user_id: str) -> dict[str, object]:
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
        assert record is not None
        return build_subject_export(conn, record, user_id, NOW).document["subject"]  # type: ignore[no-any-return]


def test_each_person_is_told_their_own_account_retention(vault: Vault) -> None:
    apply_policy(vault, SCOPED, "dpo")
    ids = seed(vault)
    staff, contractor = subject_of(vault, ids["staff"]), subject_of(vault, ids["contractor"])
    assert staff["account_retention"] == "Deleted 1 year after deactivation"  # in the directory's scope
    assert contractor["account_retention"] == "Deleted 30 days after deactivation"  # access management only
    assert contractor["deletion_due"] == "2026-04-05T09:00:00.000000Z"
    assert staff["deletion_due"] == "2027-03-06T09:00:00.000000Z"


def test_an_indefinite_purpose_is_named_with_its_reason(vault: Vault) -> None:
    apply_policy(vault, SCOPED.replace('period = "P1Y"', 'period = "indefinite"'), "dpo")
    ids = seed(vault)
    staff = subject_of(vault, ids["staff"])
    assert staff["account_retention"] == (
        "Kept without a time limit after deactivation (declared indefinite: Internal directory: Alumni directory "
        "for a year)"
    )
    assert staff["deletion_due"] is None
