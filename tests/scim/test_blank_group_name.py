"""A Group's displayName is required (RFC 7643 §4.2); a blank one is refused as a blank userName is.

scim2-models takes "" and " " as given, so POST, PUT, PATCH and Bulk stored groups named by nothing (201/200),
which the operator could not tell apart and which were pushed so to every target.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import GROUP_SCHEMA, LiveServer, patch_body
from tests.scim.test_hostile_inputs import store_digest

BLANKS = ["", " ", "\t"]


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


@pytest.fixture(scope="module")
def group_id(live: LiveServer) -> str:
    with live.client() as client:
        created = client.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "blank-name-target"})
    assert created.status_code == 201
    return str(created.json()["id"])


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.status_code
    assert response.json()["scimType"] == "invalidValue"
    assert "'displayName'" in response.json()["detail"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_display_name_is_refused_on_every_write(
    live: LiveServer, http: httpx.Client, group_id: str, blank: str
) -> None:
    before = store_digest(live.server.vault)
    body = {"schemas": [GROUP_SCHEMA], "displayName": blank}
    _refused(http.post("/Groups", json=body))
    _refused(http.put(f"/Groups/{group_id}", json=body))
    _refused(
        http.patch(f"/Groups/{group_id}", json=patch_body({"op": "replace", "path": "displayName", "value": blank}))
    )
    _refused(http.patch(f"/Groups/{group_id}", json=patch_body({"op": "replace", "value": {"displayName": blank}})))
    bulk = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Groups", "bulkId": "g", "data": body}],
    }
    (result,) = http.post("/Bulk", json=bulk).json()["Operations"]
    assert result["status"] == "400" and result["response"]["scimType"] == "invalidValue"
    assert store_digest(live.server.vault) == before


def test_a_group_keeps_being_renamed_and_patched(http: httpx.Client, group_id: str) -> None:
    renamed = http.patch(f"/Groups/{group_id}", json=patch_body({"op": "replace", "path": "displayName", "value": "x"}))
    assert renamed.status_code == 200 and renamed.json()["displayName"] == "x"
    put = http.put(f"/Groups/{group_id}", json={"schemas": [GROUP_SCHEMA], "displayName": "blank-name-target"})
    assert put.status_code == 200
