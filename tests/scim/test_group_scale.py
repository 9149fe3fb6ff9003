"""Large groups over the real HTTPS server, as Entra ID and Okta drive them: what each answer says must be true.

Timings are not asserted here (benchmarks/bench_group_scale.py measures them); these are the outcomes.
"""

from __future__ import annotations

import httpx

from tests.conftest import GROUP_SCHEMA, USER_SCHEMA, patch_body

BULK_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def _users(client: httpx.Client, prefix: str, count: int) -> list[str]:
    """``count`` users through Bulk requests of 1,000 (seeding, not what is tested)."""
    ids: list[str] = []
    for start in range(0, count, 1000):
        operations = [
            {"method": "POST", "path": "/Users", "bulkId": f"u{n}",
             "data": {"schemas": [USER_SCHEMA], "userName": f"{prefix}-{n:05d}@example.com"}}
            for n in range(start, min(count, start + 1000))
        ]  # fmt: skip
        answer = client.post("/Bulk", json={"schemas": [BULK_SCHEMA], "Operations": operations})
        assert answer.status_code == 200, answer.text[:300]
        results = answer.json()["Operations"]
        assert all(result["status"] == "201" for result in results)
        ids += [result["location"].rsplit("/", 1)[1] for result in results]
    return ids


def _group(client: httpx.Client, name: str, members: list[str]) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]}
    created = client.post("/Groups?excludedAttributes=members", json=body)
    assert created.status_code == 201, created.text[:300]
    return str(created.json()["id"])


def test_a_deleted_member_gives_each_of_its_groups_a_new_version(client: httpx.Client) -> None:
    """Before: DELETE /Users/{id} took the user out of its groups (ON DELETE CASCADE) and left their version alone,
    so a client holding the group's ETag was told 304 Not Modified about a member list that had changed, and
    meta.lastModified said the group had not changed since."""
    users = _users(client, "etag-member", 3)
    groups = [_group(client, f"ETag group {n}", users) for n in range(2)]
    tags = [client.get(f"/Groups/{group}").headers["ETag"] for group in groups]
    modified = [client.get(f"/Groups/{group}").json()["meta"]["lastModified"] for group in groups]

    assert client.delete(f"/Users/{users[0]}").status_code == 204

    for group, tag, before in zip(groups, tags, modified, strict=True):
        again = client.get(f"/Groups/{group}", headers={"If-None-Match": tag})
        assert again.status_code == 200
        assert again.headers["ETag"] != tag
        assert [m["value"] for m in again.json()["members"]] == sorted(users[1:])
        assert again.json()["meta"]["lastModified"] > before


def test_a_removed_member_leaves_the_users_groups_at_scale(client: httpx.Client) -> None:
    """2,000 members; Entra's removal by value and Okta's by filter: the user's ``groups`` no longer name the group,
    the group's list no longer names the user, and the others stay."""
    users = _users(client, "leaver", 2000)
    group = _group(client, "All leavers", users)
    entra, okta = users[10], users[1500]
    assert group in [g["value"] for g in client.get(f"/Users/{entra}").json()["groups"]]

    removed = client.patch(f"/Groups/{group}", json=patch_body(
        {"op": "remove", "path": "members", "value": [{"value": entra}]}))  # fmt: skip
    assert removed.status_code == 200
    assert entra not in {m["value"] for m in removed.json()["members"]}
    filtered = client.patch(f"/Groups/{group}?excludedAttributes=members", json=patch_body(
        {"op": "remove", "path": f'members[value eq "{okta}"]'}))  # fmt: skip
    assert filtered.status_code == 200 and "members" not in filtered.json()

    for user in (entra, okta):
        assert "groups" not in client.get(f"/Users/{user}").json()
        found = client.get("/Groups", params={"filter": f'members[value eq "{user}"]'})
        assert found.json()["totalResults"] == 0
    members = {m["value"] for m in client.get(f"/Groups/{group}").json()["members"]}
    assert members == set(users) - {entra, okta}


def test_a_put_of_a_large_group_keeps_the_order_free_set_sent(client: httpx.Client) -> None:
    """Okta's PUT of the whole group with repeated ids and one swapped member: each id once, the swap applied."""
    users = _users(client, "okta-put", 1500)
    group = _group(client, "Okta whole", users[:1000])
    sent = [*users[1:1000], users[1000], *users[1:50]]  # one left, one joined, 49 sent twice
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Okta whole",
            "members": [{"value": m, "display": f"member {n}"} for n, m in enumerate(sent)]}  # fmt: skip
    replaced = client.put(f"/Groups/{group}", json=body)
    assert replaced.status_code == 200, replaced.text[:300]
    values = [m["value"] for m in replaced.json()["members"]]
    assert len(values) == len(set(values)) == 1000
    assert set(values) == set(users[1:1001])


def test_a_member_that_does_not_exist_is_refused_among_many(client: httpx.Client) -> None:
    """A PUT of 1,000 members, one of them unknown, and one of them not a plain member: 400 invalidValue each,
    nothing stored (the group keeps its version)."""
    users = _users(client, "unknown-member", 1000)
    group = _group(client, "Checked", users[:10])
    tag = client.get(f"/Groups/{group}").headers["ETag"]
    members = [{"value": m} for m in users]
    for bad in ({"value": "no-such-user"}, {"value": 5}, {"value": users[0], "display": 7}):
        body = {"schemas": [GROUP_SCHEMA], "displayName": "Checked", "members": [*members[:500], bad, *members[500:]]}
        refused = client.put(f"/Groups/{group}", json=body)
        assert refused.status_code == 400, refused.text[:300]
        assert refused.json()["scimType"] == "invalidValue"
    added = client.patch(f"/Groups/{group}", json=patch_body(
        {"op": "add", "path": "members", "value": [{"value": users[20]}, {"value": "no-such-user"}]}))  # fmt: skip
    assert added.status_code == 400 and added.json()["scimType"] == "invalidValue"
    assert client.get(f"/Groups/{group}").headers["ETag"] == tag
