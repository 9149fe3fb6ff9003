"""The reads behind the app's Identities page: pages of Users or Groups in index order (``app.store.browse``), the
search box understood as a SCIM filter or as plain text (checked against the policy in force), and one identity's
detail — its stored document, which targets hold it, the data subject requests about it, and how its name may
mislead a reader. Qt-free, run in workers; nothing here writes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scim2_models import ScimFilter
from sqlalchemy import ColumnElement

from app.directory.errors import ScimError
from app.directory.filter_sql import compile_filter, parse
from app.directory.identity_strings import describe as describe_name
from app.dsr.register import DsrRegister
from app.exports.subject import not_recorded
from app.policy import versions
from app.policy.minimise import Minimiser
from app.services.dsr import subject_lines
from app.store.browse import PAGE_SIZE, Cursor, Detail, Page, Query, Row, SortKey, SortValue, sorts_before
from app.store.browse import counts as _counts
from app.store.browse import document as _document
from app.store.browse import page as _page
from app.store.browse import rows_by_ids as _rows_by_ids
from app.store.vault import Vault
from app.targets.status import Holding, holdings

Where = ColumnElement[bool]  # a search understood as SQL, handed back to page() and counts() through a Query

__all__ = ["PAGE_SIZE", "Cursor", "Detail", "Holding", "IdentityDetail", "Minimiser", "Page", "Query", "Row",
           "ScimError", "SortKey", "SortValue", "Where", "counts", "looks_like_filter", "name_warning", "page",
           "read_detail", "rows_by_ids", "search_clause", "sorts_before", "text_filter"]  # fmt: skip

# -- the table ---------------------------------------------------------------------------------------------------


def page(vault: Vault, query: Query, after: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    return _page(vault, query, after, limit)


def counts(vault: Vault, query: Query) -> tuple[int, int]:
    """(rows matching the query, all rows of its resource type)."""
    return _counts(vault, query)


def rows_by_ids(vault: Vault, query: Query, ids: Iterable[str]) -> dict[str, Row]:
    """The rows among ``ids`` that still exist and match the query (for applying live changes)."""
    return _rows_by_ids(vault, query, ids)


# -- the search box ----------------------------------------------------------------------------------------------
# A SCIM filter starts with an attribute path and an operator (or "not (", or "("); anything else typed into the
# box is a plain-text search, and is not reported as a broken filter.
_FILTER_SHAPE = re.compile(
    r"^\s*(?:\(|not\s*\(|[A-Za-z][\w:.$-]*(?:\[[^\]]*\])?(?:\.\w+)?\s+(?:eq|ne|co|sw|ew|gt|ge|lt|le|pr)\b)",
    re.IGNORECASE,
)


def looks_like_filter(text: str) -> bool:
    return bool(_FILTER_SHAPE.match(text))


def text_filter(resource_type: str, text: str) -> str:
    """Plain text as a SCIM filter: "contains" on the names and e-mail addresses (Groups: the display name)."""
    quoted = ScimFilter.quote(text)
    if resource_type == "User":
        return f"userName co {quoted} or displayName co {quoted} or emails.value co {quoted}"
    return f"displayName co {quoted}"


def search_clause(resource_type: str, text: str, held: Minimiser | None = None) -> tuple[Where | None, str]:
    """The WHERE clause for the search box, and a note saying how the text was understood.

    ``held`` is the policy in force: a filter on an attribute it does not hold can match nothing (nothing of it
    is stored), and the note says so instead of showing an unexplained empty list. ScimError when even the text
    search cannot be made (e.g. too long)."""
    text = text.strip()
    if not text:
        return None, ""
    what = "user name, display name or e-mail" if resource_type == "User" else "display name"
    plain_search = f"Text search: {what} contains “{text}”"
    if not looks_like_filter(text):
        return compile_filter(resource_type, text_filter(resource_type, text)), plain_search
    try:
        clause = compile_filter(resource_type, text)
    except ScimError as as_filter:
        return compile_filter(resource_type, text_filter(resource_type, text)), (
            f"{plain_search} (as a SCIM filter: {as_filter.detail})"
        )
    unheld = held.unheld_in_filter((resource_type,), parse(text)) if held is not None else None
    if unheld is not None:
        noun = "users" if resource_type == "User" else "groups"
        return clause, (
            f"SCIM filter: '{unheld}' is not held under the policy in force{unheld.because}, so no stored {noun} "
            "can match."
        )
    return clause, "SCIM filter"


# -- one identity ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdentityDetail:
    resource_id: str
    detail: Detail | None  # None: it no longer exists
    holdings: list[Holding]  # each target, whether it holds this subject and how fresh its copy is
    requests: list[str] | None  # the data subject requests about a User, a line each; None for a Group
    # A User's attributes the policy in force holds for a purpose but with no value received for this person
    # ("not recorded": unknown, not "none"), as the subject export lists them; empty for a Group.
    absent: list[str] = field(default_factory=list)


def read_detail(
    vault: Vault, resource_type: str, resource_id: str, register: Callable[[Vault], DsrRegister] = DsrRegister
) -> IdentityDetail:
    detail = _document(vault, resource_id)
    absent: list[str] = []
    with vault.read_connection() as conn:
        held = holdings(conn, resource_type, resource_id)
        latest = versions.latest_version(conn) if detail is not None and resource_type == "User" else None
        record = versions.get(conn, latest) if latest is not None else None
        if detail is not None and record is not None:
            absent = [entry["attribute"] for entry in not_recorded(record.policy, detail.document)]
    requests = subject_lines(register(vault), resource_id) if resource_type == "User" else None
    return IdentityDetail(resource_id, detail, held, requests, absent)


def name_warning(user_name: object) -> str:
    """How a userName may mislead a reader (issue 11 §7): letters of another script that pass for Latin ones, or
    several scripts in one name. Empty for an ordinary name. Such names are distinct identities, not merged."""
    if not isinstance(user_name, str) or not user_name:
        return ""
    flags = describe_name(user_name)
    scripts = ", ".join(sorted(script.title() for script in flags.scripts))
    if flags.imitates_latin and flags.looks_like:
        return f"Look-alike name: reads as \u201c{flags.looks_like}\u201d but is written with {scripts} letters"
    if flags.mixed_script:
        return f"Mixed scripts in this name: {scripts}"
    return ""
