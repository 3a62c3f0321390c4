"""An intelligence list page's linked cases equal the item's own, read alone.

A page brings each item's linked cases in its own statement (``case_links_column``),
through the rule applied to each linked case; a single read asks
``readable_case_links``'s statement. A link to a case the reader may not read must
never show: it would tell them the case exists.
"""

from typing import Any

import httpx
import pytest

from tests.conftest import auth, gql

MINE_ONLY = {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": []}
TO_KFOR = {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["KFOR"]}


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    response = await client.post(path, json=body, headers=auth("unmik.analyst"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _linked_item(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """An item KFOR may read, linked to a case only UNMIK may read and to one KFOR may."""
    hidden = await _created(
        client, "/api/v1/cases", {"title": "Hidden case", "theatre": "KOS", "markings": MINE_ONLY}
    )
    shared = await _created(
        client, "/api/v1/cases", {"title": "Shared case", "theatre": "KOS", "markings": TO_KFOR}
    )
    item = await _created(
        client,
        "/api/v1/intel-items",
        {
            "title": "Linked twice",
            "content": "Seen at both sites.",
            "information_date": "2026-11-01",
            "theatre": "KOS",
            "source_reliability": "B",
            "information_credibility": "2",
            "case_ids": [hidden, shared],
            "markings": TO_KFOR,
        },
    )
    return item, hidden, shared


async def test_a_page_shows_only_the_linked_cases_the_reader_may_read(client: httpx.AsyncClient) -> None:
    item, hidden, shared = await _linked_item(client)
    expected = {"unmik.analyst": sorted([hidden, shared]), "kfor.j2": [shared]}
    for reader, cases in expected.items():
        unfiltered = await client.get("/api/v1/intel-items", params={"limit": 5}, headers=auth(reader))
        filtered = await client.get(
            "/api/v1/intel-items", params={"limit": 5, "text": "Linked twice"}, headers=auth(reader)
        )
        for page in (unfiltered, filtered):
            assert page.status_code == 200, page.text
            (listed,) = [i for i in page.json()["items"] if i["id"] == item]
            assert listed["case_ids"] == cases, reader
        body = await gql(client, reader, "{ intelItems(first: 5) { nodes { id caseIds } } }")
        (node,) = [n for n in body["data"]["intelItems"]["nodes"] if n["id"] == item]
        assert node["caseIds"] == cases, reader


@pytest.mark.parametrize("reader", ["unmik.analyst", "kfor.j2", "eulex.prosecutor"])
async def test_every_listed_item_shows_the_cases_it_shows_alone(
    client: httpx.AsyncClient, reader: str
) -> None:
    await _linked_item(client)
    compared = linked = 0
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"after": after} if after else {})
        page = await client.get("/api/v1/intel-items", params=params, headers=auth(reader))
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            alone = await client.get(f"/api/v1/intel-items/{item['id']}", headers=auth(reader))
            assert alone.status_code == 200, alone.text
            assert item["case_ids"] == alone.json()["case_ids"], item["id"]
            compared += 1
            linked += bool(item["case_ids"])
        after = page.json()["next_cursor"]
        if after is None:
            break
    assert compared >= 5
    assert linked >= 1  # the comparison covered items with links
