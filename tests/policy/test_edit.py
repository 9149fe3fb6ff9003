"""The policy editor's edits, Qt-free: each changes only what it names, keeps every comment of a commented file
(own-line, trailing, inside tables, between sections), and leaves a file the loader reads as intended."""

from __future__ import annotations

import tomllib

import pytest

from app.policy import edit
from app.policy.loader import check_policy, errors_of, load_policy
from app.policy.versions import default_policy_text

COMMENTED = """# Acme's policy: reviewed by the DPO every spring.
format = 1
title = "Acme"  # shown in the Art. 30 header
outside_schema = "reject"  # agreed 2026-01-12

# Our own words.
organisational_measures = [
  "Four-eyes principle for changes",  # since 2025
  "Annual training",
]

[controller]
# The legal entity, as registered.
name = "Acme GmbH"
address = "1 Road, Berlin"
email = "privacy@acme.example"  # a role mailbox, never a person's

[dpo]
name = "Dana Protect"
address = "1 Road, Berlin"
email = "dpo@acme.example"

[[purposes]]
id = "access"  # referenced by attributes below
name = "Access management"
lawful_basis = "contract"
# Employees only: contractors have their own purpose.
data_subjects = ["Employees"]
deactivated_account_retention = { period = "P30D", justification = "Reversal of a mistaken deactivation" }

# Categories follow.
[[categories]]
id = "ids"
name = "Identifiers"
retention = { period = "account", justification = "Needed while the account exists" }  # ask HR first

# The catalogue.
[[attributes]]
path = "userName"  # required by SCIM
category = "ids"
purposes = ["access"]

[[attributes]]
path = "displayName"
category = "ids"
purposes = ["access"]

# Downstream.
[[recipients]]
id = "wiki"
name = "Wiki"  # the team wiki
kind = "internal"
country = "DE"
purposes = ["access"]
attributes = ["userName"]

# The end.
"""


def comments(text: str) -> list[str]:
    """Every comment of the file, own-line or trailing, in order."""
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line and '"#' not in line]


def survive(before: str, after: str) -> None:
    missing = [comment for comment in comments(before) if comment not in after]
    assert not missing, missing


def valid(text: str) -> None:
    _policy, problems = check_policy(text)
    assert not errors_of(problems), [(p.line, p.message) for p in errors_of(problems)]


def test_the_fixture_is_valid_and_commented() -> None:
    valid(COMMENTED)
    assert len(comments(COMMENTED)) == 16


def test_set_contact_changes_one_field_in_place() -> None:
    after = edit.set_contact(COMMENTED, "controller", {"name": "Acme AG", "address": "1 Road, Berlin",
                                                       "email": "privacy@acme.example"})  # fmt: skip
    survive(COMMENTED, after)
    assert 'name = "Acme AG"' in after and "telephone" not in after  # an empty field absent stays absent
    assert len(after.splitlines()) == len(COMMENTED.splitlines())
    assert load_policy(after).controller.name == "Acme AG"


def test_set_contact_adds_and_removes_an_optional_role_next_to_the_others() -> None:
    added = edit.set_contact(COMMENTED, "representative", {"name": "Acme EU Rep", "email": "rep@acme.example"})
    survive(COMMENTED, added)
    assert added.index("[representative]") < added.index("[[purposes]]")  # read with the other contacts
    assert load_policy(added).representative.name == "Acme EU Rep"
    removed = edit.set_contact(added, "representative", {})
    assert removed.replace("\n", "") == COMMENTED.replace("\n", "")
    assert load_policy(removed).representative.is_empty


def test_default_controller_filled_keeps_the_reminder_comments() -> None:
    text = default_policy_text()
    after = edit.set_contact(text, "dpo", {"name": "D", "address": "A", "email": "d@example.org"})
    survive(text, after)
    _policy, problems = check_policy(after)
    assert not [p for p in problems if "dpo." in p.message]
    assert 'telephone = ""' in after  # the shipped empty line is left as it was


def test_set_organisational_measures_keeps_the_one_a_line_layout() -> None:
    after = edit.set_organisational_measures(COMMENTED, ["Four-eyes principle for changes", "Annual training",
                                                         "Clean desk"])  # fmt: skip
    assert '  "Clean desk",\n]' in after  # the operator's two-space indent, one item a line
    assert load_policy(after).organisational_measures[-1] == "Clean desk"
    assert edit.set_organisational_measures(COMMENTED, ["Four-eyes principle for changes", "Annual training"]) == (
        COMMENTED
    )  # nothing changed: not even the trailing comment inside the array is touched


def test_set_outside_schema_keeps_the_trailing_comment() -> None:
    after = edit.set_outside_schema(COMMENTED, "strip")
    assert 'outside_schema = "strip"  # agreed 2026-01-12' in after
    survive(COMMENTED, after)


def test_set_purpose_in_place_and_renaming_follows_references() -> None:
    after = edit.set_purpose(COMMENTED, {"id": "workforce-access", "name": "Access management",
                                         "lawful_basis": "contract", "data_subjects": ["Employees", "Interns"]},
                             original_id="access")  # fmt: skip
    survive(COMMENTED, after)
    policy = load_policy(after)
    assert [p.id for p in policy.purposes] == ["workforce-access"]
    assert policy.purposes[0].data_subjects == ("Employees", "Interns")
    assert all(rule.purposes == ("workforce-access",) for rule in policy.attributes)
    assert policy.recipients[0].purposes == ("workforce-access",)
    assert "deactivated_account_retention" in after  # a key the form did not name is left alone


def test_add_purpose_goes_before_the_comment_introducing_categories() -> None:
    values = {"id": "directory", "name": "Directory", "lawful_basis": "legitimate_interests",
              "legitimate_interest": "Colleagues find each other", "data_subjects": ["Employees"],
              "deactivated_account_retention": {"period": "P7D", "justification": "Handover"}}  # fmt: skip
    after = edit.set_purpose(COMMENTED, values)
    survive(COMMENTED, after)
    assert after.index('id = "directory"') < after.index("# Categories follow.") < after.index("[[categories]]")
    assert 'deactivated_account_retention = { period = "P7D", justification = "Handover" }' in after
    assert [p.id for p in load_policy(after).purposes] == ["access", "directory"]


def test_remove_purpose_drops_it_from_the_lists_naming_it() -> None:
    two = edit.set_purpose(COMMENTED, {"id": "b", "name": "B", "lawful_basis": "contract", "data_subjects": ["E"],
                                       "deactivated_account_retention": "P1D"})  # fmt: skip
    two = edit.set_attribute(two, {"path": "displayName", "category": "ids", "purposes": ["access", "b"]},
                             ("User", "displayName"))  # fmt: skip
    after = edit.remove_purpose(two, "b")
    survive(COMMENTED, after)
    assert [p.id for p in load_policy(after).purposes] == ["access"]
    assert tomllib.loads(after)["attributes"][1]["purposes"] == ["access"]


def test_set_category_rename_follows_into_attributes() -> None:
    after = edit.set_category(COMMENTED, {"id": "identifiers", "name": "Identifiers",
                                          "retention": {"period": "account",
                                                        "justification": "Needed while the account exists"}},
                              original_id="ids")  # fmt: skip
    survive(COMMENTED, after)  # the trailing "# ask HR first" stays: the retention value did not change
    assert {rule.category for rule in load_policy(after).attributes} == {"identifiers"}


def test_remove_category_leaves_the_loader_to_name_the_orphans() -> None:
    after = edit.remove_category(COMMENTED, "ids")
    survive(COMMENTED.replace("  # ask HR first", ""), after)  # only the removed entry's own comment goes
    _policy, problems = check_policy(after)
    assert any("category 'ids' is not declared" in p.message for p in errors_of(problems))


def test_set_attribute_changes_by_resource_and_path_and_adds_a_new_one() -> None:
    changed = edit.set_attribute(COMMENTED, {"path": "userName", "category": "ids", "purposes": ["access"],
                                             "special_category": False}, ("User", "username"))  # fmt: skip
    assert changed == COMMENTED  # the defaults and unchanged values add nothing
    added = edit.set_attribute(COMMENTED, {"path": "title", "category": "ids", "purposes": ["access"]})
    survive(COMMENTED, added)
    assert added.index('path = "title"') < added.index("# Downstream.")
    assert [r.path for r in load_policy(added).attributes] == ["userName", "displayName", "title"]
    removed = edit.remove_attribute(added, "User", "Title")
    assert [r.path for r in load_policy(removed).attributes] == ["userName", "displayName"]
    survive(COMMENTED, removed)


def test_set_recipient_scope_groups_and_filter_then_all_again() -> None:
    scoped = edit.set_recipient(COMMENTED, {"id": "wiki", "name": "Wiki", "scope": {"groups": ["Engineering"],
                                            "filter": 'displayName eq "Engineer"'}}, original_id="wiki")  # fmt: skip
    survive(COMMENTED, scoped)  # the filter names displayName, which COMMENTED holds (decision 0034 checks it)
    assert """scope = { groups = ["Engineering"], filter = 'displayName eq "Engineer"' }""" in scoped  # no backslashes
    scope = load_policy(scoped).recipients[0].scope
    assert scope.groups == ("Engineering",) and scope.filter == 'displayName eq "Engineer"'
    everyone = edit.set_recipient(scoped, {"id": "wiki", "scope": "all"}, original_id="wiki")
    assert load_policy(everyone).recipients[0].scope.everyone
    assert edit.set_recipient(COMMENTED, {"id": "wiki", "scope": "all"}, original_id="wiki") == COMMENTED


def test_a_bad_scope_filter_is_the_loaders_to_refuse_with_its_line() -> None:
    bad = edit.set_recipient(COMMENTED, {"id": "wiki", "scope": {"filter": "title eq"}}, original_id="wiki")
    _policy, problems = check_policy(bad)
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if text.startswith("scope"))
    assert any(p.line == line and "not a usable SCIM filter" in p.message for p in errors_of(problems))


def test_new_recipient_without_any_section_yet() -> None:
    text = default_policy_text()  # its recipients are only a commented example
    after = edit.set_recipient(text, {"id": "hr", "name": "HR portal", "kind": "internal", "country": "DE",
                                      "purposes": ["access-management"], "attributes": ["userName"]})  # fmt: skip
    survive(text, after)
    assert [r.id for r in load_policy(after).recipients] == ["hr"]


@pytest.mark.parametrize("section", ["purposes", "categories", "recipients"])
def test_new_id_is_unused(section: str) -> None:
    first = edit.entry_ids(COMMENTED, section)[0]
    assert edit.new_id(COMMENTED, section, first) == f"{first}-2"
    assert edit.new_id(COMMENTED, section, "fresh") == "fresh"


def test_set_contact_refuses_an_unknown_role() -> None:
    with pytest.raises(ValueError):
        edit.set_contact(COMMENTED, "owner", {"name": "x"})


@pytest.mark.parametrize("resource", ["User", "Group"])
def test_every_offered_path_is_one_the_loader_accepts(resource: str) -> None:
    from app.policy.paths import holdable_paths

    offered = holdable_paths(resource)
    assert ("phoneNumbers.value" in offered) == (resource == "User") and "password" not in offered
    text = COMMENTED
    if resource == "Group":
        text = edit.set_attribute(text, {"resource": "Group", "path": "displayName", "category": "ids",
                                         "purposes": ["access"]})  # fmt: skip
    for path in offered:
        if (resource == "User" and path.lower() == "username") or (resource == "Group" and path == "displayName"):
            continue
        one = edit.set_attribute(text, {"resource": resource, "path": path, "category": "ids", "purposes": ["access"]})
        _policy, problems = check_policy(one)
        assert not [p for p in errors_of(problems) if "not an attribute" in p.message or "cannot be" in p.message], path


def test_a_short_retention_stays_short_when_its_category_is_renamed() -> None:
    text = COMMENTED.replace(
        'retention = { period = "account", justification = "Needed while the account exists" }  # ask HR first',
        'retention = "account"  # ask HR first',
    )
    after = edit.set_category(text, {"id": "identifiers", "name": "Identifiers",
                                     "retention": {"period": "account", "justification": ""}}, "ids")  # fmt: skip
    assert 'retention = "account"  # ask HR first' in after


def test_a_key_added_to_the_last_entry_goes_before_the_comments_that_follow_it() -> None:
    """Was: ``types = ["work"]`` (or any new key of the last attribute) written after the comments introducing the
    recipients, under a commented-out example recipient, where a reader took it for part of that example."""
    text = edit.set_attribute(default_policy_text(), {"path": "phoneNumbers.value", "category": "work-contact"})
    values = {"path": "phoneNumbers.value", "types": ["work"], "category": "work-contact",
              "purposes": ["internal-directory"]}  # fmt: skip
    text = edit.set_attribute(text, values, ("User", "phoneNumbers.value"))
    entry = text[text.index('path = "phoneNumbers.value"') : text.index("# Recipients:")]
    assert entry == (
        'path = "phoneNumbers.value"\ntypes = ["work"]\ncategory = "work-contact"\n'
        'purposes = ["internal-directory"]\n\n'
    )
    assert load_policy(text).attributes[-1].types == ("work",)
    assert comment_lines(text) == comment_lines(default_policy_text())


def test_an_attribute_added_from_the_outside_page_goes_with_the_other_entries() -> None:
    """Was: appended after the comments introducing the recipients, and glued to the next table header."""
    text = edit.add_attribute(default_policy_text(), "User", "phoneNumbers.value", "work-contact",
                              ["internal-directory"], "Colleagues call each other", ["work"])  # fmt: skip
    new = text.index("# Why: Colleagues call each other")
    assert text.index('path = "members"') < new < text.index("# Recipients:")
    assert '[[attributes]]\n# Why: Colleagues call each other\npath = "phoneNumbers.value"\ntypes = ["work"]\n' in text
    assert "\n\n[retention_job]" in text
    assert [c for c in comment_lines(text) if not c.startswith("# Why")] == comment_lines(default_policy_text())


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_types_added_to_a_middle_entry_goes_after_its_path_and_keeps_the_comments_after_it() -> None:
    """The insert after an anchor uses tomlkit's public calls only (0.15.3 removed the private one it used): the
    keys and comments that followed ``path`` come back after the new key, unchanged and in order."""
    text = COMMENTED.replace('path = "displayName"\n', 'path = "emails.value"  # work only\n# Contact.\n')
    values = {"path": "emails.value", "types": ["work"], "category": "ids", "purposes": ["access"]}
    after = edit.set_attribute(text, values, ("User", "emails.value"))
    assert ('path = "emails.value"  # work only\ntypes = ["work"]\n# Contact.\ncategory = "ids"\n'
            'purposes = ["access"]\n\n# Downstream.') in after  # fmt: skip
    assert after.replace('types = ["work"]\n', "") == text
    assert load_policy(after).attributes[1].types == ("work",)


def test_a_first_contact_table_goes_before_the_first_array_of_tables() -> None:
    text = COMMENTED[: COMMENTED.index("[controller]")] + COMMENTED[COMMENTED.index("[[purposes]]") :]
    after = edit.set_contact(text, "representative", {"name": "Acme EU Rep", "email": "rep@acme.example"})
    assert after.index('outside_schema = "reject"') < after.index("[representative]") < after.index("[[purposes]]")
    assert after.replace('[representative]\nname = "Acme EU Rep"\nemail = "rep@acme.example"\n\n', "") == text
    survive(text, after)
