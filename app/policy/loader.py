"""Reading a policy file: TOML text in, a checked ``Policy`` out, or every problem with its line.

The checks are those an auditor would make by hand: every attribute is a real SCIM attribute with a data
category and at least one purpose; every purpose has an Art. 6 basis (and its legitimate interest when it is
Art. 6(1)(f)); special-category data names its Art. 9 condition; retention periods parse; references between
sections resolve. Problems are collected, not raised one at a time, so an operator fixes them in one pass.
"""

from __future__ import annotations

import tomllib

from app.core.errors import PolicyInvalid
from app.policy.checks.attributes import RESOURCE_TYPES, read_attributes
from app.policy.checks.contacts import read_contact
from app.policy.checks.own_processing import PURGED_BY_PERIOD, read_own_processing
from app.policy.checks.processor import read_clients, read_processor_recipients
from app.policy.checks.purposes import read_categories, read_purposes
from app.policy.checks.reader import Problem, Reader
from app.policy.checks.recipients import read_recipients
from app.policy.checks.whole import retention_consistency, scope_filters_held, special_category_checks
from app.policy.keys import unknown_keys
from app.policy.locate import LineLocator
from app.policy.model import OUTSIDE_SCHEMA_MODES, Policy

# Re-exported: callers and tests import these from here.
__all__ = [
    "PURGED_BY_PERIOD",
    "RESOURCE_TYPES",
    "Problem",
    "check_policy",
    "errors_of",
    "load_policy",
    "stale_problems",
]

SUPPORTED_FORMAT = 1


def check_policy(text: str) -> tuple[Policy | None, list[Problem]]:
    """Parse and check; returns the policy (None when it cannot be built) and every problem, by line."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        return None, [Problem(line, f"not valid TOML: {getattr(exc, 'msg', str(exc))}")]
    reader = Reader(LineLocator(text))
    unknown_keys(document, lambda where, message: reader.problem(where, message, tightened=True))
    version = document.get("format", SUPPORTED_FORMAT)
    if version != SUPPORTED_FORMAT:
        reader.problem(("format",), f"format {version} is not supported (this Custos reads format {SUPPORTED_FORMAT})")
    mode = document.get("outside_schema", "reject")
    if mode not in OUTSIDE_SCHEMA_MODES:
        reader.problem(("outside_schema",), "outside_schema must be 'reject' or 'strip'")
        mode = "reject"
    purposes = read_purposes(reader, document)
    categories = read_categories(reader, document)
    rules = read_attributes(reader, document, {p.id for p in purposes}, {c.id for c in categories})
    recipients = read_recipients(reader, document, {p.id for p in purposes}, rules)
    measures = reader.texts(document, "organisational_measures", ())
    retention_job = document.get("retention_job", {})
    policy = Policy(
        title=reader.text(document, "title", ()) or "Custos policy",
        outside_schema=mode,
        controller=read_contact(reader, document, "controller", wanted=True),
        joint_controller=read_contact(reader, document, "joint_controller"),
        representative=read_contact(reader, document, "representative"),
        dpo=read_contact(reader, document, "dpo", wanted=True),
        purposes=purposes,
        categories=categories,
        attributes=rules,
        recipients=recipients,
        organisational_measures=measures,
        processor=read_contact(reader, document, "processor_contact"),
        processor_dpo=read_contact(reader, document, "processor_dpo"),
        processor_representative=read_contact(reader, document, "processor_representative"),
        processor_recipients=(processor_recipients := read_processor_recipients(reader, document)),
        clients=read_clients(reader, document, processor_recipients),
        retention_job_enabled=bool(retention_job.get("enabled", True)) if isinstance(retention_job, dict) else True,
        own_processing=read_own_processing(reader, document),
    )
    retention_consistency(reader, policy, document)
    special_category_checks(reader, policy, document)
    scope_filters_held(reader, policy, document)
    reader.problems.sort()
    return policy, reader.problems


def _line_from_message(message: str) -> int:
    marker = "line "
    if marker in message:
        digits = message.split(marker, 1)[1].split(",")[0].split(")")[0]
        if digits.isdigit():
            return int(digits)
    return 1


def errors_of(problems: list[Problem], *, stored: bool = False) -> list[Problem]:
    """The problems that stop a policy; ``stored``: of a version already applied, which the checks added since
    (``tightened``) do not stop: ``policy validate`` still reports them so the operator can fix the file."""
    return [p for p in problems if not p.warning and not (stored and p.tightened)]


def stale_problems(text: str) -> list[Problem]:
    """The errors an already-applied version meets under today's checks (it still loads: see ``errors_of``).

    Shown beside the version in force, so an upgrade that tightened the checks is seen before the next apply."""
    _, problems = check_policy(text)
    return [p for p in problems if p.tightened and not p.warning]


def load_policy(text: str, *, stored: bool = False) -> Policy:
    """The policy, or PolicyInvalid listing its errors (warnings do not stop it; see ``errors_of`` for ``stored``)."""
    policy, problems = check_policy(text)
    errors = errors_of(problems, stored=stored)
    if errors or policy is None:
        raise PolicyInvalid([(p.line, p.message) for p in errors])
    return policy
