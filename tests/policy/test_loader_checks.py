"""Issue 12 §3–§5: the loader refuses what it does not understand, and checks what an auditor would check."""

from __future__ import annotations

import logging

import pytest

from app.core.errors import PolicyInvalid
from app.policy import versions
from app.policy.in_force import PolicyInForce
from app.policy.keys import KNOWN_KEYS
from app.policy.loader import check_policy, errors_of, load_policy
from app.policy.versions import default_policy_text
from app.store.vault import Vault
from tests.policy.test_loader import MINIMAL, line_of


def found(text: str, warnings: bool = False) -> list[tuple[int, str]]:
    _, problems = check_policy(text)
    chosen = [p for p in problems if p.warning] if warnings else errors_of(problems)
    return [(p.line, p.message) for p in chosen]


def has(text: str, needle: str, message: str, warnings: bool = False) -> bool:
    line = line_of(text, needle)
    return any(at == line and message in said for at, said in found(text, warnings))


# -- §5 unknown keys ---------------------------------------------------------------------------------------------
def test_a_misspelt_key_is_an_error_with_its_line_and_the_key_meant() -> None:
    text = MINIMAL + (
        '[[attributes]]\npath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"\n'
        'category = "ids"\npurposes = ["access"]\nspecial_catgory = true\n'
    )
    assert has(text, "special_catgory", "unknown key 'special_catgory' in [attributes]: did you mean special_category?")
    with pytest.raises(PolicyInvalid):
        load_policy(text)  # health data does not quietly become ordinary data


@pytest.mark.parametrize(
    ("anchor", "inserted", "message"),
    [
        ("[controller]", "telefone = \"1\"", "did you mean telephone?"),
        ('name = "Access"', "lawfull_basis = \"contract\"", "did you mean lawful_basis?"),
        ('name = "Identifiers"', "retension = \"P1D\"", "did you mean retention?"),
        ('format = 1', "outside_schem = \"strip\"", "did you mean outside_schema?"),
        ('name = "Access"', "colour = \"blue\"", "unknown key 'colour' in [purposes] (known keys:"),
    ],
)
def test_unknown_keys_everywhere(anchor: str, inserted: str, message: str) -> None:
    text = MINIMAL.replace(anchor, f"{anchor}\n{inserted}", 1)
    assert has(text, inserted, message), found(text)


def test_unknown_key_inside_an_inline_table() -> None:
    text = MINIMAL.replace('data_subjects = ["Employees"]', 'data_subjects = ["Employees"]\ndpia = { requird = false }')
    assert has(text, "requird", "unknown key 'requird' in [purposes.dpia]: did you mean required?")


def test_a_top_level_key_after_a_table_is_explained() -> None:
    """The shipped default had exactly this: the measures vanished into [dpo] and the record asked for them."""
    after_dpo = 'email = "dpo@c.example.test"\norganisational_measures = ["Training"]\n[[purposes]]'
    text = MINIMAL.replace('email = "dpo@c.example.test"\n[[purposes]]', after_dpo)
    assert has(text, "organisational_measures", "'organisational_measures' belongs at the top of the file")


def test_the_shipped_default_puts_its_measures_at_the_top_level() -> None:
    policy = load_policy(default_policy_text())
    assert len(policy.organisational_measures) == 2


def test_every_key_the_loader_reads_is_in_the_table() -> None:
    """The known-keys table is the vocabulary; a shipped file using a key outside it would be refused."""
    assert "scope" in KNOWN_KEYS["recipients.*"] and "scope" in KNOWN_KEYS["purposes.*"]  # added as one line each
    assert KNOWN_KEYS["recipients.*.scope"] == KNOWN_KEYS["purposes.*.scope"] == {"groups", "filter"}
    assert {"special_category", "art9_condition", "retention"} <= KNOWN_KEYS["attributes.*"]
    for table in ("recipients.*.scope", "purposes.*.scope"):
        text = MINIMAL.replace('name = "Access"', 'name = "Access"\nscope = { groups = ["Staff"], fitler = "x" }')
        assert has(text, "fitler", "did you mean filter?"), (table, found(text))


# -- §3 recipients receive only what their purposes allow --------------------------------------------------------
RECIPIENT = (
    '[[purposes]]\nid = "directory"\nname = "Directory"\nlawful_basis = "legitimate_interests"\n'
    'legitimate_interest = "Finding colleagues"\ndata_subjects = ["Employees"]\n'
    'deactivated_account_retention = { period = "P7D", justification = "Handover" }\n'
    '[[attributes]]\npath = "title"\ncategory = "ids"\npurposes = ["directory"]\n'
    '[[recipients]]\nid = "payroll"\nname = "Payroll bureau"\nkind = "external_controller"\ncountry = "DE"\n'
    'purposes = ["access"]\nattributes = ["userName", "title"]\n'
)


def test_a_recipient_attribute_outside_its_purposes_is_refused() -> None:
    text = MINIMAL + RECIPIENT
    assert has(text, 'attributes = ["userName", "title"]', "'title' is catalogued for directory, not for this "
               "recipient's purposes (access)")  # fmt: skip
    assert not any("userName" in message for _, message in found(text))
    fixed = text.replace('purposes = ["access"]\nattributes', 'purposes = ["access", "directory"]\nattributes')
    assert found(fixed) == []


def test_a_whole_attribute_needs_every_part_in_the_recipients_purposes() -> None:
    text = MINIMAL + RECIPIENT.replace('"userName", "title"', '"userName", "name"') + (
        '[[attributes]]\npath = "name.givenName"\ncategory = "ids"\npurposes = ["access"]\n'
        '[[attributes]]\npath = "name.familyName"\ncategory = "ids"\npurposes = ["directory"]\n'
    )
    assert has(text, 'attributes = ["userName", "name"]', "'name' (its part name.familyName) is catalogued for "
               "directory")  # fmt: skip


# -- §5 further checks ---------------------------------------------------------------------------------------------
def test_a_recipient_without_a_country_is_refused() -> None:
    text = MINIMAL + RECIPIENT.replace('country = "DE"\n', "").replace('"userName", "title"', '"userName"')
    assert has(text, "[[recipients]]", "'country' is required")


def test_consent_for_employees_is_a_warning() -> None:
    text = MINIMAL.replace('lawful_basis = "contract"', 'lawful_basis = "consent"')
    assert has(text, 'lawful_basis = "consent"', "EDPB Guidelines 05/2020", warnings=True)
    assert found(text) == []  # a warning: a lawyer may have reasons


def test_contract_for_contractors_is_a_warning() -> None:
    text = MINIMAL.replace('data_subjects = ["Employees"]', 'data_subjects = ["Employees", "Contractors"]')
    assert has(text, 'lawful_basis = "contract"', "EDPB Guidelines 2/2019", warnings=True)
    assert not found(MINIMAL, warnings=True) or all("2/2019" not in m for _, m in found(MINIMAL, warnings=True))


SPECIAL = (
    '[[attributes]]\npath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"\n'
    'category = "ids"\npurposes = ["access"]\nspecial_category = true\nart9_condition = "employment"\n'
)


def test_special_category_data_needs_a_dpia_status_and_its_national_law() -> None:
    text = MINIMAL + SPECIAL
    messages = " | ".join(message for _, message in found(text))
    assert "state its DPIA status" in messages and "national_law_basis" in messages
    fixed = text.replace(
        'data_subjects = ["Employees"]',
        'data_subjects = ["Employees"]\ndpia = { required = true, progress = "Done", link = "https://dpia" }\n'
        'national_law_basis = "§ 26(3) BDSG"',
    )
    assert found(fixed) == []
    assert load_policy(fixed).purposes[0].national_law_basis == "§ 26(3) BDSG"


@pytest.mark.parametrize(
    ("country", "safeguard", "error", "warning"),
    [
        ("US", "", "or the EU-US Data Privacy Framework", ""),
        ("US", "EU-US Data Privacy Framework (certified)", "", "certified under it"),
        ("US", "EU Standard Contractual Clauses 2021/914", "", ""),
        ("CA", "", "", "commercial organisations subject to PIPEDA"),
        ("JP", "", "", "subject to the APPI"),
        ("IN", "", "needs a 'transfer_safeguard'", ""),
        ("CH", "", "", ""),
    ],
)
def test_transfers_and_partial_adequacy(country: str, safeguard: str, error: str, warning: str) -> None:
    recipient = RECIPIENT.replace('"DE"', f'"{country}"').replace('"userName", "title"', '"userName"')
    if safeguard:
        recipient += f'transfer_safeguard = "{safeguard}"\n'
    text = MINIMAL + recipient
    errors = " | ".join(message for _, message in found(text))
    warnings = " | ".join(message for _, message in found(text, warnings=True))
    assert (error in errors) if error else errors == ""
    assert (warning in warnings) if warning else "adequacy" not in warnings


# -- a version applied under the older rules still loads ----------------------------------------------------------
def test_a_stored_version_applied_before_the_stricter_checks_still_loads() -> None:
    old = MINIMAL.replace('deactivated_account_retention = { period = "P30D", justification = "Reversal of a '
                          'mistaken deactivation" }\n', "") + "[dpo2]\nname = 'x'\n"  # fmt: skip
    with pytest.raises(PolicyInvalid):
        load_policy(old)  # refused as a new version
    policy = load_policy(old, stored=True)  # but a vault already running it keeps working
    assert policy.account_retention() is None


def test_a_stale_version_in_force_is_logged_once(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    old = MINIMAL.replace('name = "Access"', 'name = "Access"\ncolour = "blue"')
    with vault.write_transaction() as conn:
        versions.insert_version(conn, old, "earlier-release")
    in_force = PolicyInForce(vault)
    with caplog.at_level(logging.WARNING, logger="app.policy.in_force"):
        assert in_force.get().version == 1  # it still runs
        in_force.refresh()
    warnings = [r.getMessage() for r in caplog.records if r.name == "app.policy.in_force"]
    assert len(warnings) == 1 and "unknown key 'colour' in [purposes]" in warnings[0]


# -- §4 periods are required --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('retention = { period = "account", justification = "Needed while the account exists" }\n', "",
         "'retention' is required: how long this category is kept"),
        ('{ period = "P30D", justification = "Reversal of a mistaken deactivation" }', '"account"',
         "a deactivated account cannot be kept 'while the account exists'"),
        ('{ period = "P30D", justification = "Reversal of a mistaken deactivation" }', '"indefinite"',
         "is \"indefinite\": it needs a 'justification'"),
    ],
)  # fmt: skip
def test_a_period_is_required_or_declared_indefinite_with_a_reason(old: str, new: str, message: str) -> None:
    text = MINIMAL.replace(old, new)
    assert any(message in said for _, said in found(text)), found(text)
    indefinite = MINIMAL.replace(
        '{ period = "P30D", justification = "Reversal of a mistaken deactivation" }',
        '{ period = "indefinite", justification = "Statutory archive" }',
    )
    assert found(indefinite) == [] and load_policy(indefinite).account_retention() is None


# -- decision 0034: a scope filter on what the policy does not hold could select no one -------------------------
WORK_MAIL = '[[attributes]]\npath = "emails.value"\ntypes = ["work"]\ncategory = "ids"\npurposes = ["access"]\n'


@pytest.mark.parametrize(
    ("scope_filter", "message"),
    [
        ('nickName eq "x"', "'scope.filter' names 'nickName', which this policy does not hold: it could select no one"),
        (
            'emails[type eq "home"].value ew "@example.test"',
            "'scope.filter' names 'emails[type eq \"home\"]', which this policy does not hold (only emails of type "
            "work are held): it could select no one",
        ),
    ],
)
def test_a_scope_filter_on_what_is_not_held_is_refused_with_its_line(scope_filter: str, message: str) -> None:
    text = MINIMAL.replace('name = "Access"', f"name = \"Access\"\nscope = {{ filter = '{scope_filter}' }}") + WORK_MAIL
    assert has(text, "scope = {", message), found(text)
    _, problems = check_policy(text)
    assert all(p.tightened for p in problems if "could select no one" in p.message)  # an applied version still loads


def test_a_scope_filter_on_a_held_type_is_accepted() -> None:
    text = MINIMAL.replace(
        'name = "Access"', "name = \"Access\"\nscope = { filter = 'emails[type eq \"work\"].value ew \"@c.test\"' }"
    ) + WORK_MAIL
    assert found(text) == []


def test_a_control_character_in_policy_text_is_refused_with_its_line_but_a_stored_version_loads() -> None:
    """Policy text goes into the Art. 30 record: a recipient or purpose named with "\\u001b" (an escape TOML
    accepts) made the XLSX record end in openpyxl's IllegalCharacterError and reached terminals as an ESC."""
    text = MINIMAL.replace('name = "Access"', 'name = "Access\\u001b[2J"').replace(
        'data_subjects = ["Employees"]', 'data_subjects = ["Employees\\u0007"]'
    )
    assert has(text, 'name = "Access', "'name' holds the control character U+001B")
    assert has(text, "data_subjects", "'data_subjects' holds the control character U+0007")
    with pytest.raises(PolicyInvalid):
        load_policy(text)
    assert load_policy(text, stored=True).purposes[0].name == "Access\x1b[2J"  # a vault running it keeps working
    multi_line = MINIMAL.replace('name = "Access"', 'name = """Access\nand\tthe rest"""')
    assert not found(multi_line)  # line breaks and tabs are text



def test_a_dpia_progress_or_link_is_text_like_any_other_but_a_stored_version_loads() -> None:
    """``dpia.progress`` and ``dpia.link`` go into the Art. 30 record (its DPIA columns) like every other policy
    text, but were taken as ``str()`` of whatever was written: a control character passed the check every other
    text meets, and ``link = 5`` went into the record as "5"."""
    dpia = 'data_subjects = ["Employees"]\ndpia = { required = true, progress = "Step\\u001b[31m one", link = 5 }'
    text = MINIMAL.replace('data_subjects = ["Employees"]', dpia)
    assert has(text, "dpia = {", "'progress' holds the control character U+001B; remove it"), found(text)
    assert has(text, "dpia = {", "'link' must be text"), found(text)
    with pytest.raises(PolicyInvalid):
        load_policy(text)
    stored = load_policy(text, stored=True).purposes[0].dpia  # a vault running it keeps working
    assert (stored.required, stored.progress, stored.link) == (True, "Step\x1b[31m one", "")
    kept = MINIMAL.replace('data_subjects = ["Employees"]', 'data_subjects = ["Employees"]\n'
                           'dpia = { required = true, progress = "Screening done", link = "https://dpia.test/1" }')
    assert not found(kept)
    assert load_policy(kept).purposes[0].dpia.progress == "Screening done"


def _with_example_recipient(attributes: str, purposes: str = '["access-management"]') -> str:
    """The shipped default with its commented example recipient switched on, as an operator adding a target does."""
    lines = default_policy_text().splitlines()
    start = lines.index("# [[recipients]]")
    example = [line.removeprefix("# ") for line in lines[start : start + 8]]
    assert example[-1].startswith("attributes = ")
    example[-2], example[-1] = f"purposes = {purposes}", f"attributes = {attributes}"
    return "\n".join(lines[:start] + example + lines[start + 8 :]) + "\n"


def test_the_shipped_example_recipient_receives_deactivations() -> None:
    """Found following the README: the example recipient received no 'active', so a leaver deactivated at the IdP
    stayed as they were at its application, while `target list` said in-sync. The example now receives it."""
    lines = default_policy_text().splitlines()
    start = lines.index("# [[recipients]]")
    example = [line.removeprefix("# ") for line in lines[start : start + 8]]
    switched_on = "\n".join(lines[:start] + example + lines[start + 8 :])
    policy, problems = check_policy(switched_on)
    assert policy is not None and not errors_of(problems)
    assert policy.recipients[0].attributes[-1] == "active"
    assert not any("does not receive 'active'" in p.message for p in problems)


def test_a_recipient_of_users_without_active_is_warned_about() -> None:
    text = _with_example_recipient('["userName", "displayName", "emails.value"]')
    said = ("recipient 'wiki' does not receive 'active': its application is never told that the identity provider "
            "deactivated someone, and keeps the account as it was until it is deleted here (the deactivated-account "
            'retention); add "active" to its attributes')  # fmt: skip
    assert (line_of(text, 'attributes = ["userName", "displayName", "emails.value"]'), said) in found(text, True)
    assert not errors_of(check_policy(text)[1])  # a warning: a phone book's accounts may not need it

    directory = _with_example_recipient('["userName", "displayName"]', purposes='["internal-directory"]')
    hint = "add \"active\" to its attributes and catalogue 'active' for one of its purposes (internal-directory)"
    assert any(message.endswith(hint) for _, message in found(directory, True))  # adding it alone would be refused
    with_it = _with_example_recipient('["userName", "displayName", "emails.value", "active"]')
    assert not any("does not receive 'active'" in message for _, message in found(with_it, True))
