"""Multi-valued attributes stored without repeats (app/directory/duplicates.py), in process and over HTTPS."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.directory.duplicates import without_duplicates
from tests.conftest import new_user, patch_body

WORK = {"value": "ada@example.test", "type": "work"}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ([WORK, WORK], [WORK]),
        ([WORK, {"value": "ADA@Example.TEST", "type": "Work"}], [WORK]),  # emails compare without case
        ([WORK, {**WORK, "type": "home"}], [WORK, {**WORK, "type": "home"}]),  # another type: another value
        ([WORK, {**WORK, "primary": True}], [{**WORK, "primary": True}]),  # the one primary named stays
        ([WORK, {**WORK, "display": "Ada"}], [WORK]),  # the first one sent is kept
    ],
    ids=["equal", "case", "other-type", "primary", "first-kept"],
)
def test_a_repeated_email_is_kept_once(sent: list[dict[str, Any]], kept: list[dict[str, Any]]) -> None:
    assert without_duplicates("User", {"userName": "ada", "emails": sent})["emails"] == kept


def test_elements_without_a_value_and_case_exact_values() -> None:
    home = {"type": "home", "locality": "Ghent"}
    document = {
        "addresses": [home, home, {**home, "locality": "Bruges"}],  # no value: every sub-attribute compared
        "x509Certificates": [{"value": "QUJD"}, {"value": "abcd"}, {"value": "QUJD"}],  # caseExact (binary)
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],  # not complex: left as sent
    }
    result = without_duplicates("User", document)
    assert result["addresses"] == [home, {**home, "locality": "Bruges"}]
    assert result["x509Certificates"] == [{"value": "QUJD"}, {"value": "abcd"}]
    assert result["schemas"] == document["schemas"]


def test_a_post_stores_a_repeated_email_once(client: httpx.Client) -> None:
    """Before: both copies were stored, served and indexed."""
    created = client.post("/Users", json=new_user("twice@example.test", emails=[WORK, WORK]))
    assert created.status_code == 201
    assert created.json()["emails"] == [WORK]
    assert client.get(f"/Users/{created.json()['id']}").json()["emails"] == [WORK]


def test_a_patch_adding_what_is_there_keeps_the_version(client: httpx.Client) -> None:
    """Before: an element repeating a (value, type) with ``primary`` was appended, a second copy of the email
    under a new version. Now it marks the stored one primary (one new version), and sent again changes nothing."""
    created = client.post("/Users", json=new_user("again@example.test", emails=[WORK])).json()
    path = f"/Users/{created['id']}"
    add = patch_body({"op": "add", "path": "emails", "value": [{**WORK, "primary": True}]})

    first = client.patch(path, json=add)
    assert first.status_code == 200
    assert first.json()["emails"] == [{**WORK, "primary": True}]
    assert first.headers["ETag"] != created["meta"]["version"]

    second = client.patch(path, json=add)
    assert second.status_code == 200 and second.headers["ETag"] == first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
