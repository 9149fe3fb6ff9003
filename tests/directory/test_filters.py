"""The filter grammar, answered in SQL: operators, logic, value paths, case-exactness, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from app.directory import repository as repo
from app.directory.errors import ScimError
from app.directory.filter_sql import compile_filter
from app.directory.query import QueryParams, search
from app.scim.service import ScimService
from app.store.models import ScimResource
from app.store.vault import Vault
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, new_user

PEOPLE = [
    ("flt-ada@example.com", "Ada", "Work", 3, True, "ext-A1"),
    ("flt-bob@example.com", "Bob", "Home", 7, False, "ext-b2"),
    ("flt-cy@example.com", "Cy", "work", 12, True, "EXT-C3"),
]


@pytest.fixture(scope="module")
def people(module_vault: Vault) -> dict[str, str]:
    service = ScimService(module_vault, "https://scim.test/scim/v2")
    ids = {}
    for user_name, given, email_type, number, active, external in PEOPLE:
        body = new_user(
            user_name,
            externalId=external,
            name={"givenName": given, "familyName": "Filter"},
            emails=[
                {"value": user_name, "type": email_type.lower(), "primary": True},
                {"value": f"alt.{user_name}", "type": "other"},
            ],
            active=active,
            title=f"Level {number}",
        )
        body["schemas"] = [body["schemas"][0], ENTERPRISE]  # type: ignore[index]
        body[ENTERPRISE] = {"employeeNumber": str(number), "department": "Research" if number < 10 else "Ops"}
        ids[given] = service.create("User", body).body["id"]  # type: ignore[index]
    group = service.create(
        "Group",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Filter Team",
            "members": [{"value": ids["Ada"]}, {"value": ids["Cy"]}],
        },
    )
    ids["group"] = group.body["id"]  # type: ignore[index]
    return ids


def names(vault: Vault, expression: str, resource_type: str = "User") -> set[str]:
    clause = compile_filter(resource_type, expression)
    with vault.read_session() as session:
        rows = session.scalars(
            select(ScimResource.user_name).where(
                ScimResource.resource_type == resource_type, clause, ScimResource.user_name.like("flt-%")
            )
        ).all()
    return {row.split("@")[0].removeprefix("flt-") for row in rows}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "FLT-ADA@EXAMPLE.COM"', {"ada"}),
        ('userName ne "flt-ada@example.com"', {"bob", "cy"}),
        ('userName co "-b"', {"bob"}),
        ('userName sw "flt-c"', {"cy"}),
        ('userName ew "@EXAMPLE.com"', {"ada", "bob", "cy"}),
        ('name.givenName gt "B"', {"bob", "cy"}),
        ('name.givenName le "bob"', {"ada", "bob"}),
        ("active eq false", {"bob"}),
        ("not (active eq true)", {"bob"}),
        ('externalId eq "ext-a1"', set()),  # externalId is caseExact
        ('externalId eq "ext-A1"', {"ada"}),
        ('externalId sw "EXT"', {"cy"}),
        ('emails[type eq "work"].value eq "flt-cy@example.com"', {"cy"}),
        ('emails[type eq "work" and value co "ada"]', {"ada"}),
        ('emails[type eq "home" and value co "ada"]', set()),  # both conditions on the same element
        ('emails[not (type eq "other")]', {"ada", "bob", "cy"}),
        ('emails.value co "alt.flt-bob"', {"bob"}),
        ('emails co "alt.flt-cy"', {"cy"}),
        ('title pr and not (name.givenName eq "Ada")', {"bob", "cy"}),
        ("name pr", {"ada", "bob", "cy"}),
        ("nickName pr", set()),
        (f'{ENTERPRISE}:department eq "research"', {"ada", "bob"}),
        ('(userName sw "flt-a" or userName sw "flt-b") and active eq true', {"ada"}),
        ('userName sw "flt-a" or userName sw "flt-b" and active eq true', {"ada"}),
        ('meta.created gt "2000-01-01T00:00:00Z"', {"ada", "bob", "cy"}),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', set()),
        ('meta.resourceType eq "User"', {"ada", "bob", "cy"}),
        ('groups[display eq "filter team"]', {"ada", "cy"}),
        ('title co "%"', set()),  # LIKE wildcards are escaped
        ('title co "_"', set()),
    ],
)
def test_filter_semantics(module_vault: Vault, people: dict[str, str], expression: str, expected: set[str]) -> None:
    assert names(module_vault, expression) == expected


def test_group_member_filters(module_vault: Vault, people: dict[str, str]) -> None:
    with module_vault.read_session() as session:

        def groups(expression: str) -> list[str]:
            return list(
                session.scalars(
                    select(ScimResource.id).where(
                        ScimResource.resource_type == "Group", compile_filter("Group", expression)
                    )
                )
            )

        assert groups(f'members[value eq "{people["Ada"]}"]') == [people["group"]]
        assert groups(f'members.value eq "{people["Bob"]}"') == []
        assert groups(f'members eq "{people["Cy"]}"') == [people["group"]]
        assert groups('displayName eq "FILTER TEAM"') == [people["group"]]


@pytest.mark.parametrize(
    "expression",
    [
        'nosuch eq "x"',
        "userName eq",
        "active gt true",
        'name eq "x"',
        f'{ENTERPRISE}:nosuch eq "x"',
        'emails[nosuch eq "x"]',
        'userName[value eq "x"]',
        'meta.created eq "not a date"',
        "userName eq 5",
        'userName eq "a" and ' * 70 + 'userName eq "b"',
        "x" * 5000,
    ],
)
def test_invalid_filters_are_400_invalid_filter(expression: str) -> None:
    with pytest.raises(ScimError) as raised:
        compile_filter("User", expression)
    assert raised.value.status == 400
    assert raised.value.scim_type == "invalidFilter"


def test_error_detail_never_echoes_the_value() -> None:
    with pytest.raises(ScimError) as raised:
        compile_filter("User", 'userName eq "secret-person@example.com" and (')
    assert "secret-person" not in raised.value.detail


@pytest.mark.parametrize("reader", ["pooled", "thread"])
def test_query_plan_uses_indexes(vault: Vault, reader: str) -> None:
    """At directory scale, lookups are index searches driven by the selective value, never a walk of all users —
    also on read connections that were open before the statistics were made (they planned as if the tables were
    empty until they reloaded them: a pooled connection, and the connection a reader thread keeps)."""
    now = datetime.now(UTC)
    with vault.engine.connect() as conn, vault.read_connection() as kept:  # both load the schema now
        conn.exec_driver_sql("SELECT count(*) FROM scim_resources").scalar()
        kept.exec_driver_sql("SELECT count(*) FROM scim_resources").scalar()
    with vault.write_transaction() as conn:
        conn.execute(
            insert(ScimResource),
            [
                {
                    "id": f"id-{i:05d}",
                    "resource_type": "User",
                    "user_name": f"u{i}",
                    "user_name_ci": f"u{i}",
                    "document": "{}",
                    "version": 1,
                    "created": now,
                    "modified": now,
                    "rid": i + 1,
                }
                for i in range(5000)
            ],
        )
        repo.insert_index_rows(
            conn,
            [
                {
                    "rid": i + 1,
                    "path": path,
                    "element": 1,
                    "value_str": value,
                    "value_ci": value,
                    "value_num": None,
                    "value_bool": None,
                }
                for i in range(5000)
                for path, value in (("emails", None), ("emails.value", f"u{i}@example.com"), ("emails.type", "work"))
            ],
        )
    vault.optimize()  # the planner's statistics, as the server keeps them
    cases = {
        'userName eq "u42"': ["(resource_type=? AND user_name_ci=?)"],
        'emails[type eq "work"].value eq "u42@example.com"': [
            "ix_resource_rid (rid=?)",  # the resource by its number, from the index row
            "ix_attr_path_ci (code=? AND value_ci=?)",
            # the type on the same element: a point lookup of that user's row, on either index that has rid
            "EXISTS USING",
            "rid=?",
        ],
        'emails.value eq "u42@example.com"': ["ix_resource_rid (rid=?)", "ix_attr_path_ci (code=? AND value_ci=?)"],
    }
    for expression, expected in cases.items():
        statement = select(ScimResource.id).where(
            ScimResource.resource_type == "User", compile_filter("User", expression)
        )
        compiled = statement.compile(vault.engine, compile_kwargs={"literal_binds": True})
        with vault.engine.connect() if reader == "pooled" else vault.read_connection() as conn:
            plan = " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert conn.execute(statement).scalars().all() == ["id-00042"]
        for fragment in expected:
            assert fragment in plan, plan
        assert "SCAN" not in plan and "INTERSECT" not in plan, plan


def test_sorting_and_paging_in_sql(module_vault: Vault, people: dict[str, str]) -> None:
    params = QueryParams(
        filter='userName sw "flt-"', sort_by="name.givenName", sort_order="descending", start_index=2, count=1
    )
    page = search(module_vault, None, "https://scim.test/scim/v2", ("User",), params)
    assert page["totalResults"] == 3
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 1
    assert page["Resources"][0]["name"]["givenName"] == "Bob"


def test_cursor_pagination_walks_everything_once(module_vault: Vault, people: dict[str, str]) -> None:
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = search(
            module_vault,
            None,
            "https://x/scim/v2",
            ("User",),
            QueryParams(filter='userName sw "flt-"', sort_by="userName", count=1, cursor=cursor),
        )
        seen += [r["userName"] for r in page["Resources"]]
        if "nextCursor" not in page:
            break
        cursor = page["nextCursor"]
    assert seen == sorted(p[0] for p in PEOPLE)


def test_bad_cursor_is_invalid_cursor(module_vault: Vault) -> None:
    with pytest.raises(ScimError) as raised:
        search(module_vault, None, "https://x/scim/v2", ("User",), QueryParams(cursor="garbage!", count=1))
    assert raised.value.scim_type == "invalidCursor"


def test_attributes_and_excluded_attributes(module_vault: Vault, people: dict[str, str]) -> None:
    page = search(
        module_vault,
        None,
        "https://x/scim/v2",
        ("User",),
        QueryParams(
            filter='userName eq "flt-ada@example.com"', attributes=f"userName,name.givenName,{ENTERPRISE}:department"
        ),
    )
    resource = page["Resources"][0]
    assert set(resource) == {"schemas", "id", "userName", "name", ENTERPRISE}
    assert resource["name"] == {"givenName": "Ada"}
    assert resource[ENTERPRISE] == {"department": "Research"}
    page = search(
        module_vault,
        None,
        "https://x/scim/v2",
        ("User",),
        QueryParams(filter='userName eq "flt-ada@example.com"', excluded="emails,groups,id"),
    )
    resource = page["Resources"][0]
    assert "emails" not in resource and "groups" not in resource and "id" in resource


@pytest.mark.parametrize(
    "expression",
    [
        'userName eq "FLT-BOB@example.com"',
        'externalId eq "ext-b2"',
        'externalId eq "EXT-B2"',
        'emails[type eq "WORK"].value eq "FLT-CY@example.com"',
        'emails[type eq "home"].value eq "flt-cy@example.com"',
        'emails[type eq "other"].value eq "alt.flt-ada@example.com"',
        'phoneNumbers[type eq "work"].value eq "+1 555"',
    ],
)
def test_prepared_probes_agree_with_the_general_translator(
    module_vault: Vault, people: dict[str, str], expression: str
) -> None:
    """IdP lookups take prepared statements; wrapping the filter in parentheses forces the general path."""

    def ids(filter_text: str) -> list[str]:
        page = search(module_vault, None, "https://x/scim/v2", ("User",), QueryParams(filter=filter_text))
        return sorted(r["id"] for r in page["Resources"])

    assert ids(expression) == ids(f"({expression})")



def test_the_service_reads_lists_through_the_policy_in_force(vault: Vault) -> None:
    """Lists and .search are read by ScimService.search, the same service that writes (app/scim/http.py calls it):
    the page comes with the service's base URL, and a filter or sort on an attribute the policy in force (here the
    shipped default) does not hold is refused, not answered with an empty page."""
    service = ScimService(vault, "https://scim.test/scim/v2")
    try:
        created = service.create("User", new_user("svc-ada@example.com")).body["id"]  # type: ignore[index]
        page = service.search(("User",), QueryParams(filter='userName eq "svc-ada@example.com"'))
        assert [r["id"] for r in page["Resources"]] == [created]
        assert page["Resources"][0]["meta"]["location"].startswith("https://scim.test/scim/v2/Users/")
        with pytest.raises(ScimError, match="'nickName' is not held"):
            service.search(("User",), QueryParams(filter='nickName eq "x"'))
        with pytest.raises(ScimError, match="'nickName' is not held"):
            service.search(("User",), QueryParams(sort_by="nickName"))
        assert search(vault, None, "", ("User",), QueryParams(filter='nickName eq "x"'))["totalResults"] == 0
    finally:
        service.close()
