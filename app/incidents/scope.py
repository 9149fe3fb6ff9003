"""The Art. 33(3)(a) helper: approximately how many people and records, and which categories of data.

Computed from the mirror (resources of the chosen types, changed in the window, holding the chosen attributes)
and from the audit trail (distinct subjects in the window). Labelled approximate, as the article allows; the
operator confirms or edits the figures on the incident, where they are kept apart from these computed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Subquery,
    and_,
    distinct,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    union_all,
)

from app.audit.prune import horizon
from app.audit.tables import AuditEvent, SubjectKey
from app.audit.trail import MEMBERS_READ, READ_SUBJECTS, iso_utc
from app.core.errors import ConfigError
from app.policy.held import COLUMN_KEYS, held_at, held_by_user
from app.policy.model import AttributeRule, Policy
from app.policy.paths import resolve_path
from app.store.models import AttributePath, AttributeValue, GroupMember, ScimResource, path_codes

_R = ScimResource.__table__
_AV = AttributeValue.__table__
_P = AttributePath.__table__
_A = AuditEvent.__table__
_SK = SubjectKey.__table__
_GM = GroupMember.__table__
_QUALIFIERS = ("type", "primary", "display", "$ref")
LIST_KIND = "scim.request"  # a SCIM request's entry; a list read's also names the people it returned
# The User values kept in columns, not in the attribute index: each one held is a record, as an index row is.
_RECORD_COLUMNS = {**COLUMN_KEYS, "active": _R.c.active}


@dataclass(frozen=True)
class Scope:
    subjects: int
    records: int
    categories: list[str]
    trail_subjects: int  # distinct pseudonymous subjects in audit events of the window, groups left out
    label: str = "approximate (Art. 33(3)(a))"
    basis: str = ""  # what the subjects figure counted, in words: not every person the window concerned
    # List reads of the window recorded before list reads named the people they returned: whom they returned is
    # unknown, so the true scope may include every User held (``users_held``, counted only when there are some).
    unnamed_list_reads: int = 0
    users_held: int = 0
    # Reads of the window that answered with groups' member lists name the groups, not the members (a group may hold
    # 100,000): the Users who are members now of those groups, of whom ``members_not_named`` the trail names nowhere
    # else in the window. Membership at the time of the read is not kept.
    groups_members_read: int = 0
    group_members: int = 0
    members_not_named: int = 0
    # The time of the first entry a pruned trail holds, when the window reaches before it (decision 0055): the
    # trail figures count nothing earlier. "" when the trail holds the whole window.
    trail_from: str = ""

    @property
    def pruned_note(self) -> str:
        """That the trail no longer holds the start of the window ("" when it holds all of it)."""
        if not self.trail_from:
            return ""
        return (f"The audit trail holds entries only from {self.trail_from} (older ones were removed under its "
                "retention period): subjects in audit events before then are not counted")  # fmt: skip

    @property
    def trail_note(self) -> str:
        """When the trail names more subjects in the window than the subjects figure counts ("" otherwise). A read
        changes no record, so the people a leaked token read are in the trail figure, not in the one ``--apply``
        stores: "Data subjects: 5" under "Subjects in audit events of the window: 30" went into the Art. 33
        draft as 5. Said, not decided here: the trail figure also counts people written to, not only read."""
        if self.trail_subjects <= self.subjects:
            return ""
        return (f"the trail names {self.trail_subjects:,} subjects in the window (list reads included), more than "
                f"the {self.subjects:,} counted from the mirror: people read but not changed are not in that figure. "
                "If what was read was exposed, give the number concerned yourself")  # fmt: skip

    @property
    def unnamed_note(self) -> str:
        """What the trail figure cannot say, in words ("" when it says everything): shown wherever it is."""
        if not self.unnamed_list_reads:
            return ""
        return (f"List reads that name no one they returned: {self.unnamed_list_reads} (recorded before list reads "
                f"named their people): the true scope may include every User held, {self.users_held:,}")  # fmt: skip

    @property
    def members_note(self) -> str:
        """The people read through groups' member lists, in words ("" when no such read was in the window)."""
        if not self.groups_members_read:
            return ""
        groups = f"{self.groups_members_read:,} group{'' if self.groups_members_read == 1 else 's'}"
        return (f"Members of groups whose member lists were read in the window: {self.group_members:,} (members as "
                f"held now of {groups} read in the window; members who left since are not counted), of whom "
                f"{self.members_not_named:,} are not among the subjects in audit events")  # fmt: skip


def basis_of(since: datetime | None, until: datetime | None, attributes: tuple[str, ...]) -> str:
    """The subjects figure counts Users in the mirror now whose record last changed in the window: someone held
    unchanged through the window, changed again since, or erased since is not in it. The figure says so."""
    held = f", holding {', '.join(attributes)}" if attributes else ""
    if since is None and until is None:
        return f"every User in the mirror now{held} (people already erased are not in it)"
    start = f"from {iso_utc(since)}" if since else ""
    end = f"before {iso_utc(until)}" if until else ""
    window = f"Users in the mirror now whose record last changed {' '.join(w for w in (start, end) if w)}"
    return f"{window}{held} (not people held unchanged through the window, changed again since, or erased since)"


def approximate(
    conn: Connection,
    policy: Policy,
    since: datetime | None = None,
    until: datetime | None = None,
    resource_types: tuple[str, ...] = ("User",),
    attributes: tuple[str, ...] = (),
) -> Scope:
    """Who and what a breach in the window may concern, from the mirror and the trail: approximate figures, each
    with the basis it was counted on (Art. 33(3)(a) allows approximations)."""
    if since is not None and until is not None and since >= until:  # an empty window reads as "no one concerned"
        raise ConfigError("The window ends before it starts: give a start earlier than its end.")
    keys = _index_keys(resource_types, attributes)
    in_scope = _in_scope(since, until, resource_types, keys)
    subjects = int(conn.execute(select(func.count()).select_from(in_scope.subquery())).scalar_one())
    records = _records(conn, in_scope, keys)
    trail_subjects, unnamed = _trail_subjects(conn, since, until)
    groups_read, members, not_named = _members_read(conn, since, until)
    names = _category_names(conn, policy, _rules(policy, resource_types, keys), in_scope)
    users = select(func.count()).where(_R.c.resource_type == "User")
    users_held = int(conn.execute(users).scalar_one()) if unnamed else 0
    return Scope(subjects, records, names, trail_subjects, basis=basis_of(since, until, attributes),
                 unnamed_list_reads=unnamed, users_held=users_held, groups_members_read=groups_read,
                 group_members=members, members_not_named=not_named,
                 trail_from=_trail_from(conn, since))  # fmt: skip


def _index_keys(resource_types: tuple[str, ...], attributes: tuple[str, ...]) -> list[str]:
    """The attributes named, as index paths; one that is no attribute is refused, not ignored."""
    keys: list[str] = []
    unknown: list[str] = []
    for path in attributes:
        resolved = next((x for t in resource_types if (x := resolve_path(t, path)) is not None), None)
        if resolved is None:
            unknown.append(path)
        else:
            keys.append(resolved.index_path)
    if unknown:  # ignored, it left no filter: every subject counted, as if the breach concerned them all
        raise ConfigError(f"Not a SCIM {' or '.join(resource_types)} attribute: {', '.join(unknown)}.")
    return keys


def _rules(policy: Policy, resource_types: tuple[str, ...], keys: list[str]) -> list[AttributeRule]:
    """The User attributes asked about, and the Group member lists (data about each member) unless attributes
    were named: the categories are those the subjects in scope hold, not every one the policy lists."""
    rules = [r for r in policy.attributes if r.resource_type in resource_types or (not keys and r.key == "members")]
    if keys:
        rules = [r for r in rules if r.key in keys or any(k.startswith(r.key + ".") or r.key.startswith(k + ".")
                                                           for k in keys)]  # fmt: skip
    return rules


def _in_scope(
    since: datetime | None, until: datetime | None, resource_types: tuple[str, ...], keys: list[str]
) -> Select[Any]:
    """The resources (by number: index rows name them so) changed in the window, holding an attribute named."""
    conditions: list[ColumnElement[bool]] = [_R.c.resource_type.in_(resource_types)]
    if since is not None:
        conditions.append(_R.c.modified >= since)
    if until is not None:
        conditions.append(_R.c.modified < until)
    in_scope = select(_R.c.rid).where(and_(*conditions))
    if keys:  # userName, externalId and displayName are columns, not index rows: held_at reads both
        in_scope = in_scope.where(or_(*(held_at(key) for key in keys)))
    return in_scope


def _records(conn: Connection, in_scope: Select[Any], keys: list[str]) -> int:
    """The values the subjects in scope hold (of the attributes named, when named), the ones kept in columns
    included; before, every index row of those subjects was counted, whatever attributes were named.

    A multi-valued entry's type, primary flag, display and $ref qualify its value: not records of their own; nor
    is the index row of the entry itself ("emails", which filters read as "emails.value") beside its value."""
    qualifiers = or_(*(_P.c.path.endswith("." + name, autoescape=True) for name in _QUALIFIERS))
    child = _P.alias("child")
    entry = exists().where(child.c.path == _P.c.path + ".value")
    values = and_(not_(qualifiers), not_(entry))
    if keys:
        values = and_(values, or_(*(or_(_P.c.path == k, _P.c.path.startswith(k + ".", autoescape=True)) for k in keys)))
    value_rows = (
        select(func.count()).select_from(_AV).where(_AV.c.rid.in_(in_scope), _AV.c.code.in_(path_codes(values)))
    )
    records = int(conn.execute(value_rows).scalar_one())
    for key, column in _RECORD_COLUMNS.items():
        if not keys or key in keys:
            held = select(func.count()).where(_R.c.rid.in_(in_scope), column.is_not(None))
            records += int(conn.execute(held).scalar_one())
    return records


def _category_names(
    conn: Connection, policy: Policy, rules: list[AttributeRule], in_scope: Select[Any]
) -> list[str]:
    """The data categories some User in scope holds a value of, by name, in the catalogue's order."""
    names: list[str] = []
    for rule in rules:
        category = policy.category(rule.category)
        name = category.name if category else rule.category
        if name in names:
            continue
        held = select(_R.c.rid).where(_R.c.rid.in_(in_scope), _R.c.resource_type == "User", held_by_user(rule))
        if conn.execute(held.limit(1)).first() is not None:
            names.append(name)
    return names

def _trail_from(conn: Connection, since: datetime | None) -> str:
    """The first entry's time of a pruned trail, when the window starts before it (or has no start)."""
    pruned = horizon(conn)
    if pruned is None or (since is not None and iso_utc(since) >= pruned.first_at):
        return ""
    return pruned.first_at


def _in_window(statement: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    if since is not None:
        statement = statement.where(_A.c.at >= iso_utc(since))
    if until is not None:
        statement = statement.where(_A.c.at < iso_utc(until))
    return statement


def _trail_subjects(conn: Connection, since: datetime | None, until: datetime | None) -> tuple[int, int]:
    """(distinct people the trail names in the window, list reads of the window that name no one they returned).

    An entry names its subject; a list read (a filter, a page of a walk, a .search) also names everyone it returned
    (``read_subjects``). Counting subjects alone left out everyone an attacker read through list queries. A list
    read recorded before list reads named their people is counted apart: whom it returned cannot be told."""
    # A group's pseudonym names no person: events about a group (its creation, its member list) are not counted.
    groups = select(_SK.c.pseudonym).join(_R, _R.c.id == _SK.c.resource_id).where(_R.c.resource_type == "Group")
    everyone = _named(since, until)
    counted = select(func.count(distinct(everyone.c.who))).where(everyone.c.who.not_in(groups))
    details = func.json_extract
    unnamed = _in_window(
        select(func.count()).where(
            _A.c.kind == LIST_KIND,
            details(_A.c.details, "$.results") > 0,
            details(_A.c.details, f"$.{READ_SUBJECTS}").is_(None),
            details(_A.c.details, "$.method") != "HEAD",  # answered without a body: it returned no one
        ),
        since,
        until,
    )
    return int(conn.execute(counted).scalar_one()), int(conn.execute(unnamed).scalar_one())


def _named(since: datetime | None, until: datetime | None, *only: ColumnElement[bool]) -> Subquery:
    """The pseudonyms the trail names in the window (``who``, repeated): entries' subjects and the people list reads
    returned, of the entries meeting ``only`` (every entry when none is given)."""
    named = _in_window(select(_A.c.subject.label("who")).where(_A.c.subject.is_not(None), *only), since, until)
    returned = func.json_each(_A.c.details, f"$.{READ_SUBJECTS}").table_valued("value")
    listed = _in_window(
        select(returned.c.value.label("who"))
        .select_from(_A)
        .join(returned, true())
        .where(_A.c.kind == LIST_KIND, *only),
        since,
        until,
    )
    return union_all(named, listed).subquery()


def _members_read(conn: Connection, since: datetime | None, until: datetime | None) -> tuple[int, int, int]:
    """(groups whose member lists reads of the window answered with, Users who are members of them now, of whom those
    the trail names nowhere in the window).

    Such a read's entry names the group (decision 0049: ``members_read``), not its members: a group of 100,000 would
    make every read of it megabytes of trail. Who the members were at the time is not kept, so the members now are
    counted, and said to be; someone who left the group since is not among them."""
    flagged = and_(_A.c.kind == LIST_KIND, func.json_extract(_A.c.details, f"$.{MEMBERS_READ}") == 1)
    read = _named(since, until, flagged)
    groups = (
        select(_SK.c.resource_id)
        .join(_R, _R.c.id == _SK.c.resource_id)
        .where(_R.c.resource_type == "Group", _SK.c.pseudonym.in_(select(read.c.who)))
    )
    group_count = int(conn.execute(select(func.count()).select_from(groups.subquery())).scalar_one())
    if not group_count:
        return 0, 0, 0
    members = (
        select(_GM.c.member_id.label("member"))
        .distinct()
        .where(_GM.c.group_id.in_(groups), _GM.c.member_type == "User")
        .subquery()
    )
    member_count = int(conn.execute(select(func.count()).select_from(members)).scalar_one())
    everyone = _named(since, until)
    unnamed = (
        select(func.count())
        .select_from(members.outerjoin(_SK, _SK.c.resource_id == members.c.member))
        .where(or_(_SK.c.pseudonym.is_(None), _SK.c.pseudonym.not_in(select(everyone.c.who))))
    )
    return group_count, member_count, int(conn.execute(unnamed).scalar_one())
