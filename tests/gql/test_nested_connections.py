"""A case's notes, evidence, tasks and intelligence are cursor connections in GraphQL:
paged with the same cursors, order and counts as the REST sub-lists, through the same rule."""

from typing import Any

import httpx

from tests.conftest import auth, gql
from tests.fixtures.queries import audit_rows

# GraphQL field of Case -> the REST list of the same children for one case.
SUB_LISTS = {
    "notes": ("/api/v1/cases/{}/notes", {}),
    "evidence": ("/api/v1/evidence", {"case_id": "{}"}),
    "tasks": ("/api/v1/tasks", {"case_id": "{}"}),
    "intelItems": ("/api/v1/intel-items", {"case_id": "{}"}),
}

PAGE = """query($id: ID!, $first: Int!, $after: String) { case(id: $id) {
  %s(first: $first, after: $after) {
    totalCount totalCountCapped pageInfo { hasNextPage endCursor }
    edges { cursor node { id markings { classification } } } nodes { id }
  } } }"""

SIZES = """query { cases(first: 100) { nodes { id reference
  notes(first: 1) { totalCount } evidence(first: 1) { totalCount }
  tasks(first: 1) { totalCount } intelItems(first: 1) { totalCount } } } }"""


async def _rest(client: httpx.AsyncClient, login: str, field: str, case_id: str) -> list[dict[str, Any]]:
    path, params = SUB_LISTS[field]
    query = {k: v.format(case_id) for k, v in params.items()}
    items: list[dict[str, Any]] = []
    after = None
    while True:
        response = await client.get(
            path.format(case_id),
            params={**query, "limit": 100, **({"after": after} if after else {})},
            headers=auth(login),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        after = body["next_cursor"]
        if after is None:
            return items


async def _paged(
    client: httpx.AsyncClient, login: str, field: str, case_id: str, size: int = 2
) -> tuple[list[dict[str, Any]], list[int]]:
    """Every node of a case's nested connection, ``size`` at a time; and each page's totalCount."""
    nodes: list[dict[str, Any]] = []
    totals: list[int] = []
    after = None
    while True:
        body = await gql(client, login, PAGE % field, {"id": case_id, "first": size, "after": after})
        assert "errors" not in body, body
        page = body["data"]["case"][field]
        assert len(page["edges"]) <= size
        assert [e["node"]["id"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCountCapped"] is False
        nodes += [e["node"] for e in page["edges"]]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, totals
        after = page["pageInfo"]["endCursor"]


async def _busiest_cases(client: httpx.AsyncClient, login: str) -> dict[str, str]:
    """For each nested field, the case with the most children the reader may read."""
    body = await gql(client, login, SIZES)
    cases = body["data"]["cases"]["nodes"]
    return {f: max(cases, key=lambda c: c[f]["totalCount"])["id"] for f in SUB_LISTS}


SECRET = {"classification": "SECRET", "tlp": "AMBER"}
RELEASED = {"classification": "RESTRICTED", "tlp": "GREEN", "releasable_to": ["EULEX"]}


async def _busy_case(client: httpx.AsyncClient) -> tuple[str, set[str]]:
    """An UNMIK case given several more children of each kind, some SECRET; and the
    ids of the SECRET ones, which UNMIK's analyst (cleared to CONFIDENTIAL) may not read."""
    found = await client.get("/api/v1/cases", params={"text": "UNMIK-2007-0012"}, headers=auth("unmik.chief"))
    case_id: str = found.json()["items"][0]["id"]
    intel = {
        "content": "A white Iveco loads cartons after midnight.",
        "information_date": "2008-06-02",
        "source_reliability": "B",
        "information_credibility": "2",
        "theatre": "KOS",
        "case_ids": [case_id],
    }
    task = {"activity_area": "information_gathering", "theatre": "KOS", "case_id": case_id}
    secret: set[str] = set()
    for i, markings in enumerate([RELEASED, SECRET, {}, RELEASED, SECRET]):
        for path, body in (
            ("/api/v1/notes", {"case_id": case_id, "body": f"Border post call {i}."}),
            ("/api/v1/tasks", {**task, "title": f"Check plate {i}"}),
            ("/api/v1/intel-items", {**intel, "title": f"Truck seen loading, night {i}"}),
        ):
            response = await client.post(
                path, json={**body, "markings": markings}, headers=auth("unmik.chief")
            )
            assert response.status_code == 201, response.text
            if markings is SECRET:
                secret.add(response.json()["id"])
    return case_id, secret


async def test_paging_two_at_a_time_matches_the_rest_sub_lists(client: httpx.AsyncClient) -> None:
    case_id, secret = await _busy_case(client)
    for login in ("unmik.chief", "unmik.analyst", "eulex.chief"):
        for field in SUB_LISTS:
            rest = await _rest(client, login, field, case_id)
            nodes, totals = await _paged(client, login, field, case_id)
            assert [n["id"] for n in nodes] == [r["id"] for r in rest], (login, field)
            assert set(totals) == {len(rest)}, (login, field, totals)
            if field != "evidence":  # the seed's evidence only
                assert len(rest) > 4, (login, field)
                shown = {n["id"] for n in nodes}
                assert bool(shown & secret) == (login == "unmik.chief"), (login, field)


async def test_a_page_of_cases_reports_each_cases_count_and_first_page(client: httpx.AsyncClient) -> None:
    query = """{ cases(first: 20) { nodes { id
      notes(first: 2) { totalCount pageInfo { hasNextPage } edges { cursor node { id } } } } } }"""
    cases = (await gql(client, "unmik.chief", query))["data"]["cases"]["nodes"]
    assert any(c["notes"]["pageInfo"]["hasNextPage"] for c in cases)
    for case in cases:
        rest = await _rest(client, "unmik.chief", "notes", case["id"])
        page = case["notes"]
        assert page["totalCount"] == len(rest)
        assert [e["node"]["id"] for e in page["edges"]] == [r["id"] for r in rest[:2]]
        assert page["pageInfo"]["hasNextPage"] == (len(rest) > 2)


async def test_nested_page_size_is_bounded(client: httpx.AsyncClient) -> None:
    case_id = (await _busiest_cases(client, "unmik.analyst"))["notes"]
    for first, after in ((101, None), (0, None), (101, "x")):
        body = await gql(
            client, "unmik.analyst", PAGE % "notes", {"id": case_id, "first": first, "after": after}
        )
        assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}, body
    body = await gql(
        client, "unmik.analyst", PAGE % "notes", {"id": case_id, "first": 2, "after": "not-a-cursor"}
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "Traceback" not in str(body)


async def test_nested_pages_never_show_an_unreadable_record(client: httpx.AsyncClient) -> None:
    # KFOR's case KFOR-2008-0007 is released to UNMIK; its linked SECRET HUMINT is not.
    found = await client.get("/api/v1/cases", params={"text": "KFOR-2008-0007"}, headers=auth("kfor.j2"))
    case_id = found.json()["items"][0]["id"]
    kfor, _ = await _paged(client, "kfor.j2", "intelItems", case_id, size=1)
    secret = {i["id"] for i in kfor if i["markings"]["classification"] == "SECRET"}
    assert secret
    unmik, totals = await _paged(client, "unmik.analyst", "intelItems", case_id, size=1)
    assert not secret & {i["id"] for i in unmik}
    assert {i["id"] for i in unmik} < {i["id"] for i in kfor}
    assert set(totals) == {len(unmik)}


async def test_restricted_case_children_stay_with_its_members(client: httpx.AsyncClient) -> None:
    # UNMIK-2008-0019 is restricted: eulex.prosecutor is a member, eulex.chief is not.
    found = await client.get(
        "/api/v1/cases", params={"text": "UNMIK-2008-0019"}, headers=auth("eulex.prosecutor")
    )
    case_id = found.json()["items"][0]["id"]
    notes, _ = await _paged(client, "eulex.prosecutor", "notes", case_id, size=1)
    assert notes
    body = await gql(client, "eulex.chief", PAGE % "notes", {"id": case_id, "first": 2, "after": None})
    assert body["data"] is None or body["data"]["case"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body


async def test_a_later_nested_page_is_audited_as_a_nested_read(
    client: httpx.AsyncClient, db_url: str
) -> None:
    case_id = (await _busiest_cases(client, "unmik.analyst"))["intelItems"]
    first = await gql(
        client, "unmik.analyst", PAGE % "intelItems", {"id": case_id, "first": 1, "after": None}
    )
    cursor = first["data"]["case"]["intelItems"]["pageInfo"]["endCursor"]
    response = await client.post(
        "/graphql",
        json={"query": PAGE % "intelItems", "variables": {"id": case_id, "first": 100, "after": cursor}},
        headers={**auth("unmik.analyst"), "X-Request-ID": "gql-nested-after"},
    )
    later = response.json()["data"]["case"]["intelItems"]["nodes"]
    detail = await gql(
        client,
        "unmik.analyst",
        "query($id: ID!) { case(id: $id) { intelItems(first: 100) { nodes { id markings { classification tlp } } } } }",
        {"id": case_id},
    )
    protected = {
        i["id"]
        for i in detail["data"]["case"]["intelItems"]["nodes"][1:]
        if i["markings"]["classification"] != "UNCLASSIFIED" or i["markings"]["tlp"] != "CLEAR"
    }
    assert protected
    rows = {r.action: r for r in await audit_rows(db_url) if r.request_id == "gql-nested-after"}
    assert set(rows["intel_item.read_nested"].record_ids or []) == protected
    assert {i["id"] for i in later} >= protected
