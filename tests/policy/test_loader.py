"""The policy file: the shipped default is valid, and every problem is reported with its line."""

from __future__ import annotations

import tomllib

import pytest

from app.core.errors import PolicyInvalid
from app.policy.durations import Period
from app.policy.edit import add_recipient, remove_recipient, set_outside_schema
from app.policy.loader import check_policy, errors_of, load_policy
from app.policy.versions import default_policy_text

MINIMAL = """format = 1
outside_schema = "reject"
[controller]
name = "C Ltd"
address = "1 Street"
email = "dpo@c.example.test"
[dpo]
name = "D"
address = "1 Street"
email = "dpo@c.example.test"
[[purposes]]
id = "access"
name = "Access"
lawful_basis = "contract"
data_subjects = ["Employees"]
deactivated_account_retention = { period = "P30D", justification = "Reversal of a mistaken deactivation" }
[[categories]]
id = "ids"
name = "Identifiers"
retention = { period = "account", justification = "Needed while the account exists" }
[[attributes]]
path = "userName"
category = "ids"
purposes = ["access"]
"""


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(text: str) -> list[tuple[int, str]]:
    _, found = check_policy(text)
    return [(p.line, p.message) for p in errors_of(found)]


def test_shipped_default_is_valid_and_minimal() -> None:
    policy, found = check_policy(default_policy_text())
    assert policy is not None and not errors_of(found)
    assert all(p.warning for p in found)  # only "fill in the controller" reminders
    held = {rule.path for rule in policy.rules_for("User")}
    assert "userName" in held and "emails.value" in held
    assert not held & {"phoneNumbers", "addresses", "photos", "nickName", "name", "emails"}
    assert policy.outside_schema == "reject"
    assert policy.account_retention() == Period(days=30)


def test_minimal_policy_is_valid() -> None:
    assert problems(MINIMAL) == []


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        ('path = "userName"', 'path = "favouriteColour"', "not an attribute of the SCIM User schema"),
        ('lawful_basis = "contract"', 'lawful_basis = "because"', "lawful_basis must be one of"),
        ('purposes = ["access"]', 'purposes = ["marketing"]', "purpose 'marketing' is not declared"),
        ('category = "ids"', 'category = "nope"', "category 'nope' is not declared"),
        ('outside_schema = "reject"', 'outside_schema = "ignore"', "outside_schema must be 'reject' or 'strip'"),
        ('path = "userName"', 'path = "password"', "Custos never stores passwords"),
    ],
)
def test_each_problem_names_its_line(change: str, needle: str, message: str) -> None:
    text = MINIMAL.replace(change, needle)
    found = problems(text)
    assert any(line == line_of(text, needle) and message in text_ for line, text_ in found), found


def test_all_problems_are_reported_at_once() -> None:
    text = MINIMAL.replace('lawful_basis = "contract"', 'lawful_basis = "legitimate_interests"') + (
        '[[attributes]]\npath = "ethnicity"\ncategory = "ids"\npurposes = ["access"]\n'
        '[[attributes]]\npath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"\n'
        'category = "ids"\npurposes = ["access"]\nspecial_category = true\n'
        '[[categories]]\nid = "short"\nname = "Short"\nretention = "P3X"\n'
        '[[recipients]]\nid = "crm"\nname = "CRM"\nkind = "processor"\ncountry = "US"\n'
    )
    found = problems(text)
    messages = " | ".join(message for _, message in found)
    for expected in (
        "needs 'legitimate_interest'",
        "'ethnicity' is not an attribute",
        "needs an art9_condition",
        "'P3X' is not a period",
        "needs a 'transfer_safeguard'",
        "a processor needs 'contract_link'",
    ):
        assert expected in messages
    assert len(found) >= 6
    assert [line for line, _ in found] == sorted(line for line, _ in found)


def test_toml_syntax_error_has_its_line() -> None:
    text = MINIMAL.replace('name = "Access"', 'name = "Access')
    found = problems(text)
    assert len(found) == 1 and found[0][0] == line_of(text, 'name = "Access') and "not valid TOML" in found[0][1]


def test_overlap_and_duplicates_are_refused() -> None:
    text = MINIMAL + (
        '[[attributes]]\npath = "name"\ncategory = "ids"\npurposes = ["access"]\n'
        '[[attributes]]\npath = "name.givenName"\ncategory = "ids"\npurposes = ["access"]\n'
        '[[attributes]]\npath = "USERNAME"\ncategory = "ids"\npurposes = ["access"]\n'
    )
    messages = [message for _, message in problems(text)]
    assert any("already covered by the whole attribute" in m for m in messages)
    assert any("listed twice" in m for m in messages)


def test_load_policy_raises_readable_error() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        load_policy(MINIMAL.replace('path = "userName"', 'path = "displayName"'))
    assert "userName' must be in the catalogue" in raised.value.user_message


def test_period_arithmetic_is_calendar_based() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert Period.parse("P1M").after(start) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert Period.parse("P1Y2W").after(start) == datetime(2027, 2, 14, 12, tzinfo=UTC)
    assert Period.parse("P30D").before(datetime(2026, 3, 2, tzinfo=UTC)) == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(ValueError):
        Period.parse("30 days")


def test_edits_keep_comments_and_layout() -> None:
    original = default_policy_text()
    edited = add_recipient(
        original,
        {
            "id": "wiki",
            "name": "Wiki",
            "kind": "internal",
            "country": "DE",
            "purposes": ["access-management"],
            "attributes": ["userName"],
        },
    )
    edited = set_outside_schema(edited, "strip")
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(comment in edited.splitlines() for comment in comments)
    policy = load_policy(edited)
    assert policy.outside_schema == "strip" and [r.id for r in policy.recipients] == ["wiki"]
    assert tomllib.loads(remove_recipient(edited, "wiki")).get("recipients") == []
