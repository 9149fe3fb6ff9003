"""The Art. 33(3)(a) helper (app/incidents/scope.py) says only what the mirror holds: an attribute it cannot read
is refused rather than ignored (ignored, it counted everyone), userName counts (a column, not an index row), and
the categories are those the subjects in scope hold, not every category of the policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.audit.pseudonyms import pseudonym_for
from app.audit.trail import Event, append, of_kind
from app.core.errors import ConfigError
from app.directory import repository as repo
from app.incidents.scope import Scope, approximate
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from tests.conftest import LiveServer, new_user, patch_body

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _users(vault: Vault, count: int, now: datetime) -> None:
    with vault.write_transaction() as conn:
        for n in range(count):
            document = {"schemas": [USER], "userName": f"scope{n}@example.test",
                        "emails": [{"value": f"scope{n}@example.test"}]}  # fmt: skip
            repo.insert_resource(conn, "User", f"00000000-0000-0000-0000-{n:012d}", document, now)


def test_an_unknown_attribute_is_refused_not_read_as_everyone(vault: Vault) -> None:
    policy = PolicyInForce(vault).get().policy
    _users(vault, 4, datetime.now(UTC))
    with vault.read_connection() as conn, pytest.raises(ConfigError, match=r"nonsense\.attr"):
        approximate(conn, policy, attributes=("nonsense.attr",))


def test_user_name_is_counted_although_it_is_a_column(vault: Vault) -> None:
    policy = PolicyInForce(vault).get().policy
    _users(vault, 4, datetime.now(UTC))
    with vault.read_connection() as conn:
        found = approximate(conn, policy, attributes=("userName",))
    assert found.subjects == 4 and found.categories == ["Account identifiers"]


def test_categories_are_those_the_subjects_in_scope_hold(vault: Vault) -> None:
    policy = PolicyInForce(vault).get().policy
    now = datetime.now(UTC)
    _users(vault, 3, now)
    with vault.read_connection() as conn:
        everyone = approximate(conn, policy)
        nobody = approximate(conn, policy, now - timedelta(days=30), now - timedelta(days=29))
    assert everyone.subjects == 3
    assert "Account identifiers" in everyone.categories and "Work contact details" in everyone.categories
    assert "Employment details" not in everyone.categories  # the policy lists it; no one in scope holds any
    assert "Group membership" not in everyone.categories
    assert nobody.subjects == 0 and nobody.categories == []


def test_a_group_on_the_trail_is_not_counted_as_a_data_subject(vault: Vault) -> None:
    """The trail names a group by a pseudonym too (its creation, its members): 'Subjects in audit events of the
    window' counted it as a person."""
    from app.core.events import EventBus
    from app.scim.service import ScimService

    policy = PolicyInForce(vault).get().policy
    since = datetime.now(UTC) - timedelta(seconds=1)
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus())
    try:
        ids = [str(service.create("User", {"schemas": [USER], "userName": f"member{n}@example.test"}).body["id"])  # type: ignore[index]
               for n in range(2)]  # fmt: skip
        group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Team",
                 "members": [{"value": i} for i in ids]}  # fmt: skip
        service.create("Group", group)
    finally:
        service.close()
    with vault.read_connection() as conn:
        found = approximate(conn, policy, since)
    assert found.subjects == 2 and found.trail_subjects == 2
    assert "Group membership" in found.categories


def test_a_window_that_ends_before_it_starts_is_refused(vault: Vault) -> None:
    """--from after --to gave 'Data subjects: 0 … Categories: none', and --apply stored those zeros on the incident."""
    policy = PolicyInForce(vault).get().policy
    now = datetime.now(UTC)
    _users(vault, 2, now)
    with vault.read_connection() as conn, pytest.raises(ConfigError, match="ends before it starts"):
        approximate(conn, policy, now + timedelta(days=1), now - timedelta(days=1))


def test_the_subjects_figure_says_what_it_counted(vault: Vault) -> None:
    """'Data subjects: 3' read as everyone the window concerned; it counts the Users whose record last changed in
    it, still in the mirror: someone held unchanged through the window is not among them, and the figure says so."""
    policy = PolicyInForce(vault).get().policy
    now = datetime.now(UTC)
    _users(vault, 2, now - timedelta(days=10))  # held, untouched, all through the window below
    window = (now - timedelta(days=2), now - timedelta(days=1))
    with vault.read_connection() as conn:
        found = approximate(conn, policy, *window, attributes=("emails",))
        everyone = approximate(conn, policy)
    assert found.subjects == 0
    assert found.basis.startswith("Users in the mirror now whose record last changed from ")
    assert ", holding emails (not people held unchanged through the window" in found.basis
    assert everyone.basis == "every User in the mirror now (people already erased are not in it)"


def test_records_are_the_values_held_of_the_attributes_named(vault: Vault) -> None:
    """'Records' counted every index row of the subjects whatever attributes were named (--attributes title: 24 for
    3 people holding 3 titles), an e-mail's type and primary flag as records of their own, and never userName."""
    policy = PolicyInForce(vault).get().policy
    _users(vault, 3, datetime.now(UTC))  # each: a userName and one work e-mail address
    with vault.read_connection() as conn:
        everything = approximate(conn, policy)
        emails = approximate(conn, policy, attributes=("emails",))
        user_names = approximate(conn, policy, attributes=("userName",))
    assert (everything.subjects, everything.records) == (3, 6)
    assert (emails.subjects, emails.records) == (3, 3)
    assert (user_names.subjects, user_names.records) == (3, 3)


def test_active_is_counted_as_a_record_although_it_is_a_column(vault: Vault) -> None:
    """'--attributes active' counted the subjects holding it and no record of it ('Records: 0' for 3 people): the
    account status is a column, as userName is, not an index row."""
    policy = PolicyInForce(vault).get().policy
    with vault.write_transaction() as conn:
        for n in range(3):
            document = {"schemas": [USER], "userName": f"active{n}@example.test", "active": n != 1}
            repo.insert_resource(conn, "User", f"00000000-0000-0000-0001-{n:012d}", document, datetime.now(UTC))
    with vault.read_connection() as conn:
        found = approximate(conn, policy, attributes=("active",))
        everything = approximate(conn, policy)
    assert (found.subjects, found.records) == (3, 3)
    assert (everything.subjects, everything.records) == (3, 6)  # a userName and a status each


def test_people_read_through_list_queries_are_in_the_trail_figure(live: LiveServer) -> None:
    """A stolen token reading people through a filter, a page of a walk and a .search left entries naming no one:
    'Subjects in audit events of the window' was 0 for them. Each list read now names whom it returned, as
    pseudonyms (never the ids), and the figure counts each person once."""
    with live.client() as http:
        ids = [http.post("/Users", json=new_user(f"listed{n}@example.test")).json()["id"] for n in range(6)]
        recorder = live.server.recorder
        assert recorder is not None
        recorder.flush()
        since = datetime.now(UTC)
        filtered = http.get("/Users", params={"filter": 'userName sw "listed"', "count": 2}).json()
        walked = http.get("/Users", params={"filter": 'userName sw "listed"', "startIndex": 3, "count": 2}).json()
        query = {"schemas": [SEARCH], "filter": 'userName eq "listed5@example.test"'}
        searched = http.post("/Users/.search", json=query)
    recorder.flush()
    returned = {r["id"] for page in (filtered, walked, searched.json()) for r in page["Resources"]}
    assert len(returned) == 5 and returned <= set(ids)
    vault = live.server.vault
    with vault.read_connection() as conn:
        found = approximate(conn, PolicyInForce(vault).get().policy, since)
        reads = [e for e in of_kind(conn, "scim.request", limit=3) if e.details.get("results")]
        pseudonyms = {pseudonym_for(conn, i) for i in returned}
    assert found.trail_subjects == 5 and found.unnamed_list_reads == 0
    assert {p for e in reads for p in e.details["read_subjects"]} == pseudonyms
    assert not any(i in json.dumps(e.content()) for e in reads for i in ids)


def test_people_read_but_not_changed_are_said_to_be_outside_the_figure_stored(live: LiveServer) -> None:
    """Tried by hand: a leaked token read 30 people and changed 5; `breach scope --apply` printed "Data subjects: 5"
    above "Subjects in audit events of the window: 30" and stored 5, which the Art. 33 draft then gave the authority
    with no word that the people read were not in it. The scope now says so (a note; the figure is the operator's)."""
    with live.client() as http:
        for n in range(3):
            assert http.post("/Users", json=new_user(f"read{n}@example.test")).status_code == 201
        recorder = live.server.recorder
        assert recorder is not None
        recorder.flush()
        since = datetime.now(UTC)
        assert len(http.get("/Users", params={"filter": 'userName sw "read"'}).json()["Resources"]) == 3
    recorder.flush()
    vault = live.server.vault
    policy = PolicyInForce(vault).get().policy
    with vault.read_connection() as conn:
        read = approximate(conn, policy, since)
        everyone = approximate(conn, policy)  # no window: every User held, and the trail names no more
    assert (read.subjects, read.trail_subjects) == (0, 3)
    assert read.trail_note.startswith("the trail names 3 subjects in the window (list reads included), more than the 0")
    assert "people read but not changed are not in that figure" in read.trail_note
    assert everyone.trail_note == ""


def test_a_list_read_recorded_without_its_people_says_everyone_may_be_concerned(vault: Vault) -> None:
    """A list read written before list reads named their people: whom it returned cannot be told, so the scope
    counts it apart and gives the number of Users held, the most it may have concerned."""
    policy = PolicyInForce(vault).get().policy
    since = datetime.now(UTC)
    _users(vault, 3, since)
    with vault.write_transaction() as conn:
        append(conn, Event("scim.request", "token:old", details={"method": "GET", "results": 3, "total_results": 3}))
        append(conn, Event("scim.request", "token:old", details={"method": "GET", "results": 0, "total_results": 0}))
    with vault.read_connection() as conn:
        found = approximate(conn, policy, since)
    assert (found.unnamed_list_reads, found.users_held) == (1, 3)
    assert found.unnamed_note.endswith("the true scope may include every User held, 3")


GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _team(http: httpx.Client, name: str, size: int) -> tuple[str, list[str]]:
    """A group of ``size`` new Users, made before the window starts (the entries naming them are outside it)."""
    ids = [http.post("/Users", json=new_user(f"{name}{n}@example.test")).json()["id"] for n in range(size)]
    group = {"schemas": [GROUP], "displayName": name, "members": [{"value": i} for i in ids]}
    created = http.post("/Groups", json=group)
    assert created.status_code == 201
    return created.json()["id"], ids


def _scope_after(live: LiveServer, since: datetime) -> Scope:
    recorder = live.server.recorder
    assert recorder is not None
    recorder.flush()
    vault = live.server.vault
    with vault.read_connection() as conn:
        return approximate(conn, PolicyInForce(vault).get().policy, since)


def _window_start(live: LiveServer) -> datetime:
    recorder = live.server.recorder
    assert recorder is not None
    recorder.flush()
    return datetime.now(UTC)


def test_people_read_through_a_groups_member_list_are_counted(live: LiveServer) -> None:
    """A token reading a group read each member's id and name, and the entry named only the group: 'breach scope'
    left every one of them out. The entry now says the members were read (not who: a group may hold 100,000), and
    the scope counts the group's members as held now, labelled so; a read leaving the members out counts none."""
    with live.client() as http:
        group_id, ids = _team(http, "readteam", 3)
        since = _window_start(live)
        assert "members" not in http.get(f"/Groups/{group_id}", params={"excludedAttributes": "members"}).json()
        assert "members" not in http.get(f"/Groups/{group_id}", params={"attributes": "displayName"}).json()
        without = _scope_after(live, since)
        assert len(http.get(f"/Groups/{group_id}").json()["members"]) == 3
        found = _scope_after(live, since)
    assert (without.groups_members_read, without.group_members, without.members_note) == (0, 0, "")
    assert (found.groups_members_read, found.group_members, found.members_not_named) == (1, 3, 3)
    assert found.trail_subjects == 0  # the group is not a person; its members are counted on their own line
    assert found.members_note.startswith("Members of groups whose member lists were read in the window: 3 (members")
    assert "members who left since are not counted" in found.members_note
    vault = live.server.vault
    with vault.read_connection() as conn:
        entry = of_kind(conn, "scim.request", limit=1)[0]
        member_pseudonyms = {pseudonym_for(conn, i) for i in ids}
    assert entry.details["members_read"] is True and entry.subject is not None
    assert not any(p in json.dumps(entry.content()) for p in member_pseudonyms)  # the group named, not its members


def test_list_reads_searches_and_patches_answering_with_members_are_counted(live: LiveServer) -> None:
    """A group list, a .search and a PATCH (its answer is the whole group) each show the members; each is counted,
    a member of two groups once, and one the trail already names in the window is not counted again as extra."""
    with live.client() as http:
        _, listed_ids = _team(http, "listteam", 2)
        _, searched_ids = _team(http, "searchteam", 2)
        patched, _ = _team(http, "patchteam", 2)
        since = _window_start(live)
        http.get("/Groups", params={"filter": 'displayName eq "listteam"', "attributes": "displayName"})
        http.post("/Groups/.search", json={"schemas": [SEARCH], "filter": 'displayName eq "searchteam"',
                                           "excludedAttributes": ["members"]})  # fmt: skip
        none = _scope_after(live, since)
        assert len(http.get("/Groups", params={"filter": 'displayName eq "listteam"'}).json()["Resources"]) == 1
        query = {"schemas": [SEARCH], "filter": 'displayName eq "searchteam"', "attributes": ["members.value"]}
        assert http.post("/.search", json=query).json()["totalResults"] == 1
        http.get(f"/Users/{searched_ids[0]}")  # named by its own read too
        add = {"op": "add", "path": "members", "value": [{"value": listed_ids[0]}]}
        answered = http.patch(f"/Groups/{patched}", json=patch_body(add))
        assert answered.status_code == 200 and len(answered.json()["members"]) == 3
        found = _scope_after(live, since)
    assert none.groups_members_read == 0
    assert (found.groups_members_read, found.group_members) == (3, 6)  # listed_ids[0] now in two of the groups
    assert found.members_not_named == 5


def test_a_head_names_no_one_as_read(live: LiveServer) -> None:
    """A HEAD is answered with headers only: a list HEAD, a HEAD of a group, a HEAD of a user read nobody's data,
    so the scope counts none of them (before: the people and members of a HEAD were counted as read)."""
    with live.client() as http:
        group_id, _members = _team(http, "headteam", 3)
        since = _window_start(live)
        assert http.head("/Users", params={"filter": 'userName sw "headteam"'}).status_code == 200
        assert http.head(f"/Groups/{group_id}").status_code == 200
        assert http.head("/Groups", params={"filter": 'displayName eq "headteam"'}).status_code == 200
        found = _scope_after(live, since)
    assert (found.trail_subjects, found.unnamed_list_reads, found.groups_members_read) == (0, 0, 0)
    with live.server.vault.read_connection() as conn:
        heads = of_kind(conn, "scim.request", limit=3)
    assert all(e.details["method"] == "HEAD" for e in heads)
    assert not any("read_subjects" in e.details or "members_read" in e.details for e in heads)


def test_a_window_before_a_pruned_trail_s_start_says_the_trail_counts_nothing_earlier(vault: Vault) -> None:
    """After the trail's retention period pruned it (decision 0055), 'subjects in audit events of the window' counts
    only from its first entry held: a window that starts earlier says so; one inside the trail does not."""
    from app.audit import prune
    from app.audit.checkpoints import checkpoint_now

    policy = PolicyInForce(vault).get().policy
    later = datetime.now(UTC) + timedelta(days=3)
    with vault.write_transaction() as conn:
        checkpoint_now(conn)
        append(conn, Event("token.created", "operator:dpo", details={"name": "x"}, at=later))
        prune.prune(conn, prune.plan(conn, "P1D", later - timedelta(days=1)), later)
    with vault.read_connection() as conn:
        start = prune.horizon(conn)
        assert start is not None
        held_from = datetime.strptime(start.first_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        before = approximate(conn, policy, held_from - timedelta(days=10), held_from + timedelta(days=1))
        unbounded = approximate(conn, policy)
        inside = approximate(conn, policy, held_from, held_from + timedelta(days=1))
    assert before.pruned_note.startswith(f"The audit trail holds entries only from {start.first_at} (older ones")
    assert unbounded.trail_from == start.first_at  # no start: the window reaches before the trail
    assert inside.pruned_note == ""
