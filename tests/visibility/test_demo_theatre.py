"""The demo theatre as each user sees it: own records, releases, never above clearance."""

from typing import Any

import httpx
import pytest

from tests.conftest import auth, gql

UNMIK_ANALYST_CASES = {
    "UNMIK-2007-0012",  # own agency
    "UNMIK-2008-0047",
    "UNMIK-2008-0019",  # restricted, and the analyst is a named member
    "UNMIK-2007-0088",
    "UNMIK-2007-0104",  # TLP:CLEAR
    "EULEX-2008-0019",  # released to UNMIK
    "KFOR-2008-0007",  # KFOR's AMBER+STRICT release to UNMIK
    "KP-2008-0233",  # released to UNMIK
    "KP-2008-0301",  # TLP:GREEN in Kosovo
}
KP_CASES = {"KP-2008-0301", "KP-2008-0233", "EULEX-2009-0004", "UNMIK-2007-0088", "UNMIK-2007-0104"}


async def _references(client: httpx.AsyncClient, login: str, path: str = "/api/v1/cases") -> set[str]:
    response = await client.get(path, params={"limit": 100}, headers=auth(login))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == len(body["items"])
    return {item.get("reference") or item.get("title") for item in body["items"]}


async def test_unmik_analyst_sees_own_and_released_cases_only(client: httpx.AsyncClient) -> None:
    assert await _references(client, "unmik.analyst") == UNMIK_ANALYST_CASES


async def test_unmik_analyst_never_sees_secret_even_of_own_agency(client: httpx.AsyncClient) -> None:
    # UNMIK-2007-0131 is UNMIK's own SECRET case; the analyst is cleared to CONFIDENTIAL.
    seen = await _references(client, "unmik.analyst")
    assert "UNMIK-2007-0131" not in seen
    assert "UNMIK-2007-0131" in await _references(client, "unmik.chief")


async def test_unmik_analyst_never_sees_unreleased_kfor_intelligence(client: httpx.AsyncClient) -> None:
    titles = {
        item["markings"]["owner_agency"] + ":" + item["markings"]["tlp"]
        for item in (
            await client.get("/api/v1/intel-items", params={"limit": 100}, headers=auth("unmik.analyst"))
        ).json()["items"]
    }
    kfor = (
        await client.get(
            "/api/v1/intel-items", params={"limit": 100, "agency": "KFOR"}, headers=auth("unmik.analyst")
        )
    ).json()
    kfor_seen = {item["markings"]["tlp"] for item in kfor["items"]}
    # Only the item released to UNMIK and the GREEN theatre-wide ones; never the
    # unreleased SECRET HUMINT nor the RED SIGINT meant for named individuals.
    assert kfor_seen <= {"AMBER+STRICT", "GREEN"}
    assert all(
        "UNMIK" in item["markings"]["releasable_to"] or item["markings"]["tlp"] == "GREEN"
        for item in kfor["items"]
    )
    assert all(item["markings"]["classification"] != "SECRET" for item in kfor["items"])
    assert titles


async def test_host_nation_sees_only_what_is_released_to_it(client: httpx.AsyncClient) -> None:
    assert await _references(client, "kp.investigator") == KP_CASES


async def test_nohost_never_reaches_host_nation_even_when_green(client: httpx.AsyncClient) -> None:
    items = (
        await client.get("/api/v1/intel-items", params={"limit": 100}, headers=auth("kp.investigator"))
    ).json()["items"]
    assert items, "KP should see some intelligence"
    assert not any(item["markings"]["nohost"] for item in items)


async def test_installation_admin_reads_no_agency_data(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/cases", "/api/v1/intel-items", "/api/v1/tasks", "/api/v1/entities"):
        body = (await client.get(path, headers=auth("admin"))).json()
        assert body["total_count"] == 0, path
    # but the directory is open to it
    agencies = (await client.get("/api/v1/agencies", headers=auth("admin"))).json()
    assert {"UNMIK", "EULEX", "KFOR", "KP"} <= {a["code"] for a in agencies}


async def test_theatres_stay_apart(client: httpx.AsyncClient) -> None:
    haiti = await _references(client, "minustah.analyst")
    assert all(not ref.startswith(("KFOR", "KP", "EULEX")) for ref in haiti)
    # Kosovo's GREEN host-nation case is not GREEN for Haiti.
    assert "KP-2008-0301" not in haiti


async def test_restricted_case_only_for_named_members(client: httpx.AsyncClient) -> None:
    # UNMIK-2008-0019 is restricted; eulex.chief is not a member though EULEX is released.
    assert "UNMIK-2008-0019" in await _references(client, "eulex.prosecutor")
    assert "UNMIK-2008-0019" not in await _references(client, "eulex.chief")


def _error_shapes(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["message"], e["extensions"]["code"]) for e in errors)


@pytest.mark.parametrize("login", ["kp.investigator", "kfor.j2", "admin"])
async def test_unreadable_case_is_indistinguishable_from_missing(
    client: httpx.AsyncClient, login: str
) -> None:
    chief = (
        await client.get(
            "/api/v1/cases", params={"limit": 100, "text": "UNMIK-2007-0131"}, headers=auth("unmik.chief")
        )
    ).json()
    secret_id = chief["items"][0]["id"]
    hidden = await client.get(f"/api/v1/cases/{secret_id}", headers=auth(login))
    missing = await client.get("/api/v1/cases/00000000-0000-4000-8000-000000000000", headers=auth(login))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    body_hidden = await gql(
        client, login, "query($id: ID!) { case(id: $id) { id } node(id: $id) { id } }", {"id": secret_id}
    )
    body_missing = await gql(
        client,
        login,
        "query($id: ID!) { case(id: $id) { id } node(id: $id) { id } }",
        {"id": "00000000-0000-4000-8000-000000000000"},
    )
    assert body_hidden["data"] == body_missing["data"] == {"case": None, "node": None}
    assert _error_shapes(body_hidden["errors"]) == _error_shapes(body_missing["errors"])


async def test_rest_and_graphql_agree_on_what_a_reader_sees(client: httpx.AsyncClient) -> None:
    for login in ("unmik.analyst", "kp.investigator", "kfor.j2", "minustah.analyst"):
        rest = await _references(client, login)
        body = await gql(client, login, "{ cases(first: 100) { totalCount edges { node { reference } } } }")
        graph = {e["node"]["reference"] for e in body["data"]["cases"]["edges"]}
        assert rest == graph, login
        assert body["data"]["cases"]["totalCount"] == len(graph)


async def test_nested_fields_do_not_reach_unreadable_records(client: httpx.AsyncClient) -> None:
    # KFOR's case KFOR-2008-0007 is released to UNMIK; its linked SECRET HUMINT is not.
    body = await gql(
        client,
        "unmik.analyst",
        '{ cases(first: 5, filter: {text: "KFOR-2008-0007"}) { edges { node { reference intelItems { nodes { markings { classification } } } } } } }',
    )
    case = body["data"]["cases"]["edges"][0]["node"]
    assert case["reference"] == "KFOR-2008-0007"
    assert all(i["markings"]["classification"] != "SECRET" for i in case["intelItems"]["nodes"])
    chief = await gql(
        client,
        "kfor.j2",
        '{ cases(first: 5, filter: {text: "KFOR-2008-0007"}) { edges { node { intelItems { nodes { markings { classification } } } } } } }',
    )
    kfor_view = chief["data"]["cases"]["edges"][0]["node"]["intelItems"]["nodes"]
    assert any(i["markings"]["classification"] == "SECRET" for i in kfor_view)
