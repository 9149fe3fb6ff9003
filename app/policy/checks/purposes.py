"""``[[purposes]]`` and ``[[categories]]``: each purpose's Art. 6 basis, data subjects, DPIA status and retention."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader, unique_ids
from app.policy.checks.scope import read_scope
from app.policy.model import (
    LAWFUL_BASES,
    DataCategory,
    Dpia,
    Purpose,
    Retention,
)


def read_purposes(reader: Reader, document: dict[str, Any]) -> tuple[Purpose, ...]:
    tables = reader.tables(document, "purposes")
    if not tables:
        reader.problem(("purposes",), "at least one [[purposes]] is required")
    unique_ids(reader, "purposes", tables)
    purposes = []
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("purposes", index)
        basis = reader.text(raw, "lawful_basis", where, required=True)
        if basis and basis not in LAWFUL_BASES:
            reader.problem((*where, "lawful_basis"), f"lawful_basis must be one of {', '.join(LAWFUL_BASES)}")
        interest = reader.text(raw, "legitimate_interest", where)
        if basis == "legitimate_interests" and not interest:
            reader.problem((*where, "lawful_basis"), "Art. 6(1)(f) needs 'legitimate_interest' describing it")
        subjects = reader.texts(raw, "data_subjects", where)
        if not subjects:
            reader.problem(
                (*where, "data_subjects") if "data_subjects" in raw else where, "'data_subjects' is required"
            )
        _basis_warnings(reader, where, basis, subjects)
        account = reader.retention(
            raw.get("deactivated_account_retention"),
            where,
            "deactivated_account_retention",
            required="a deactivated account",
            account_allowed=False,
        )
        purposes.append(
            Purpose(
                id=str(raw.get("id", "")),
                name=reader.text(raw, "name", where, required=True),
                description=reader.text(raw, "description", where),
                business_function=reader.text(raw, "business_function", where),
                lawful_basis=basis,
                legitimate_interest=interest,
                lia_link=reader.text(raw, "lia_link", where),
                data_subjects=subjects,
                dpia=_dpia(reader, raw, where),
                national_law_basis=reader.text(raw, "national_law_basis", where),
                automated_decision_making=reader.flag(raw, "automated_decision_making", where),
                automated_decision_details=reader.text(raw, "automated_decision_details", where),
                source=reader.text(raw, "source", where),
                consent_record_link=reader.text(raw, "consent_record_link", where),
                deactivated_account_retention=account or Retention(None),
                retention_policy_link=reader.text(raw, "retention_policy_link", where),
                scope=read_scope(reader, raw, where),
            )
        )
    return tuple(purposes)


def read_categories(reader: Reader, document: dict[str, Any]) -> tuple[DataCategory, ...]:
    tables = reader.tables(document, "categories")
    unique_ids(reader, "categories", tables)
    categories = []
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("categories", index)
        categories.append(
            DataCategory(
                id=str(raw.get("id", "")),
                name=reader.text(raw, "name", where, required=True),
                description=reader.text(raw, "description", where),
                retention=reader.retention(raw.get("retention"), where, required="this category") or Retention(None),
            )
        )
    return tuple(categories)


def _dpia(reader: Reader, raw: dict[str, Any], where: tuple[str | int, ...]) -> Dpia:
    """``dpia = { required = …, progress = …, link = … }``. Progress and link go into the Art. 30 record like any
    other policy text, so they are read as text (no control character); they were taken as given (``str()`` of
    anything), so a version already applied with another value still loads (``tightened``)."""
    dpia_raw = raw.get("dpia", {})
    if not isinstance(dpia_raw, dict):
        reader.problem((*where, "dpia"), "'dpia' must be a table: { required = …, progress = …, link = … }")
        dpia_raw = {}
    required = dpia_raw.get("required")
    if required is not None and not isinstance(required, bool):
        reader.problem((*where, "dpia"), "'dpia.required' must be true or false")
        required = None
    at = (*where, "dpia")
    progress = reader.text(dpia_raw, "progress", at, tightened=True)
    return Dpia(required, progress, reader.text(dpia_raw, "link", at, tightened=True))


_EMPLOYEES = ("employee", "staff", "worker", "personnel", "beschäftigte", "mitarbeiter", "salarié")
_CONTRACTORS = ("contractor", "freelance", "consultant", "self-employed")


def _basis_warnings(reader: Reader, where: tuple[str | int, ...], basis: str, subjects: tuple[str, ...]) -> None:
    """Bases the EDPB warns about for these data subjects: warnings, since a lawyer may have reasons."""
    lowered = [subject.lower() for subject in subjects]
    if basis == "consent" and any(word in s for s in lowered for word in _EMPLOYEES):
        reader.problem(
            (*where, "lawful_basis"),
            "consent is rarely freely given by employees, given the imbalance of power (EDPB Guidelines 05/2020 "
            "on consent, §21-22): prefer contract, legal obligation or legitimate interests",
            warning=True,
        )
    if basis == "contract" and any(word in s for s in lowered for word in _CONTRACTORS):
        reader.problem(
            (*where, "lawful_basis"),
            "Art. 6(1)(b) covers only what is objectively necessary to perform a contract with the data subject "
            "(EDPB Guidelines 2/2019): a contractor engaged through their company is not party to that contract; "
            "check the basis for them",
            warning=True,
        )
