"""The policy (the agreed schema, purposes, recipients, retention), the use cases behind ``custos policy`` and the
app's Policy page, editor and apply dialog: check a text, show what applying it would do to the stored data,
apply it (one transaction: the new version, its trail entry, the purge of what it no longer holds and the outbox
items that follow) and tell the running endpoint, read the versions and compare them.

Editing a draft (``app.policy.edit``: tomlkit transforms of the text that keep its comments) touches no vault and
no trail; a draft takes effect only through ``apply`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from app.core.errors import ConfigError
from app.policy import versions
from app.policy.apply import Impact, preview
from app.policy.diff import PolicyDiff, diff_draft, diff_versions
from app.policy.in_force import ActivePolicy, PolicyInForce
from app.policy.loader import Problem, check_policy, errors_of, load_policy, stale_problems
from app.policy.model import Policy
from app.policy.versions import PolicyRecord, default_policy_text
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.targets.sync import resend_notes

if TYPE_CHECKING:
    from app.policy.outside import OutsideRow, OutsideSummary, catalogue_path, catalogue_types

_OUTSIDE = ("OutsideRow", "OutsideSummary", "catalogue_path", "catalogue_types")


def __getattr__(name: str) -> object:
    """The outside-the-policy analysis uses pandas: imported by the page that shows it, not by every command."""
    if name in _OUTSIDE:
        from app.policy import outside as analysis

        return getattr(analysis, name)
    raise AttributeError(name)


__all__ = ["ActivePolicy", "Impact", "Outside", "OutsideRow", "OutsideSummary", "Policy", "PolicyDiff",
           "PolicyInForce", "PolicyRecord", "Problem", "apply", "catalogue_path", "catalogue_types", "check",
           "default_policy_text", "diff", "diff_draft", "diff_versions", "errors_of", "history", "impact",
           "load_policy", "outside", "policy_in_force", "stale_problems", "version"]  # fmt: skip


def policy_in_force(vault: Vault) -> PolicyInForce:
    """The policy in force over this vault, for a process without a runtime (the command line); the app and
    ``serve`` share the runtime's, which an apply in the same process refreshes at once."""
    return PolicyInForce(vault)


def check(text: str) -> tuple[Policy | None, list[Problem]]:
    """Every problem of a policy text (errors and warnings, with lines); the policy when it has no error."""
    return check_policy(text)


def impact(vault: Vault, text: str, based_on: int | None = None) -> Impact:
    """What applying ``text`` would change in the stored data. ``based_on``: the version an edit started from;
    a version applied since (another window, the command line) would be silently undone, so it is refused."""
    with vault.read_connection() as conn:
        latest = versions.latest_version(conn)
        if based_on is not None and latest != based_on:
            raise ConfigError(
                f"Version {latest} was applied while you were editing a copy of version {based_on}: applying this "
                "draft would undo it. Close the editor and make the change again on the version in force."
            )
        found = preview(conn, text)
        if found.unchanged:
            return found
        current = versions.in_force(conn)
        notes = resend_notes(conn, current.policy if current else None, load_policy(text))
    return replace(found, notes=[*found.notes, *notes])


def apply(
    vault: Vault, text: str, operator: str, in_force: PolicyInForce | None = None, now: datetime | None = None
) -> tuple[PolicyRecord, Impact]:
    """Apply ``text`` as the next version (refused with its errors); ``in_force`` — the running endpoint's — then
    enforces it from the next request."""
    record, changed = apply_policy(vault, text, operator, now)
    if in_force is not None:
        in_force.refresh()
    return record, changed


def history(vault: Vault, in_force: PolicyInForce | None = None) -> list[PolicyRecord]:
    """Every version, oldest first (the last is in force). With ``in_force``, a vault without any version gets the
    shipped default first, as the endpoint would on start."""
    with vault.read_connection() as conn:
        records = versions.history(conn)
    if not records and in_force is not None:
        in_force.get()
        with vault.read_connection() as conn:
            records = versions.history(conn)
    return records


def version(vault: Vault, number: int | None = None) -> PolicyRecord:
    """One version, or (None) the one in force."""
    with vault.read_connection() as conn:
        record = versions.in_force(conn) if number is None else versions.get(conn, number)
    if record is None:
        raise ConfigError(f"There is no policy version {number}." if number else "No policy has been applied yet.")
    return record


def diff(vault: Vault, a: int | None, b: int | None) -> PolicyDiff:
    """What changed from version ``a`` to ``b`` (None: the one in force), in the catalogue and in the text."""
    return diff_versions(version(vault, a), version(vault, b))


# -- outside the policy ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outside:
    """What identity providers sent that the policy in force does not hold, per attribute and client (names and
    counts, never a value), with the version it was judged against — the one a decision would change."""

    rows: list[OutsideRow]
    summary: OutsideSummary
    policy: Policy
    policy_text: str
    version: int


def outside(vault: Vault, in_force: PolicyInForce) -> Outside:
    """Rows the version in force still leaves outside (an attribute added since is no longer listed)."""
    active = in_force.get()
    from app.policy.outside import not_held_by, outside_policy, summary

    still_outside = not_held_by(active.minimiser)
    with vault.read_connection() as conn:
        rows = outside_policy(conn, still_outside)
        line = summary(conn, still_outside)
    return Outside(rows, line, active.policy, active.record.text, active.version)
