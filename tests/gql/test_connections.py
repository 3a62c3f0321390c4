"""GraphQL lists as cursor connections: pages meet, counts agree with REST, sizes are bounded.

Each connection is walked one small page at a time and compared with the REST list of
the same thing (which does not page), so a cursor that skips or repeats a row, or a
count that includes rows the page never shows, fails here. The lists that concern
shareable records are also checked with a reader who may not read one of them.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ocpo_coord.models.enums import Classification
from tests.conftest import auth, gql
from tests.fixtures.records import lower_clearance, new_case, new_group

T0 = datetime(2031, 5, 4, 4, 0, tzinfo=UTC)


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def _walk(
    client: httpx.AsyncClient, login: str, field: str, args: str = "", *, key: str = "id", first: int = 1
) -> tuple[list[str], int]:
    """Every node id of a connection, page by page, and the total count it reported."""
    query = f"""query($first: Int!, $after: String) {{
      {field}({args} first: $first, after: $after) {{
        totalCount totalCountCapped pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {key} }} }}
      }} }}"""
    ids: list[str] = []
    after = None
    totals = set()
    for _ in range(50):
        body = await gql(client, login, query, {"first": first, "after": after})
        assert "errors" not in body, body
        page = body["data"][field]
        totals.add(page["totalCount"])
        assert not page["totalCountCapped"]
        assert len(page["edges"]) <= first
        ids += [edge["node"][key] for edge in page["edges"]]
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(totals) == 1, totals
    total = totals.pop()
    assert len(ids) == len(set(ids)) == total, (ids, total)
    return ids, total


async def _rest_ids(
    client: httpx.AsyncClient, login: str, path: str, key: str = "id", **params: str
) -> list[str]:
    response = await client.get(f"/api/v1/{path}", params=params, headers=auth(login))
    assert response.status_code == 200, response.text
    return [str(item[key]) for item in response.json()]


async def _assert_bounded(client: httpx.AsyncClient, login: str, field: str, args: str = "") -> None:
    for first in (0, 101):
        body = await gql(client, login, f"{{ {field}({args} first: {first}) {{ totalCount }} }}")
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}
    body = await gql(client, login, f'{{ {field}({args} first: 5, after: "not-a-cursor") {{ totalCount }} }}')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def _operation(
    client: httpx.AsyncClient, login: str, starts_at: datetime, classification: str = "RESTRICTED"
) -> str:
    body = {
        "operation_kind": "raid",
        "title": "Search of a garage in Obiliq",
        "latitude": 42.69,
        "longitude": 21.07,
        "radius_m": 150,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
        "theatre": "KOS",
        "markings": {"classification": classification, "tlp": "AMBER"},
    }
    response = await client.post("/api/v1/planned-operations", json=body, headers=auth(login))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_deconfliction_hits_page_and_never_name_an_unreadable_record(client: httpx.AsyncClient) -> None:
    hidden = set()
    for day in range(3):
        await _operation(client, "unmik.chief", T0 + timedelta(days=day))
        # Above what the KFOR-UNMIK agreement carries: UNMIK may not read these.
        hidden.add(await _operation(client, "kfor.j2", T0 + timedelta(days=day), "CONFIDENTIAL"))
    ids, total = await _walk(client, "unmik.chief", "deconflictionHits")
    assert total >= 3
    assert sorted(ids) == sorted(await _rest_ids(client, "unmik.chief", "deconfliction-hits"))
    filtered, _ = await _walk(
        client, "unmik.chief", "deconflictionHits", "filter: {hitKind: OPERATION},", first=2
    )
    assert set(filtered) <= set(ids)
    # UNMIK is told whom to call, and names only records it may read itself.
    body = await gql(
        client, "unmik.chief", "{ deconflictionHits(first: 100) { nodes { recordId otherRecordId } } }"
    )
    named = {h[k] for h in body["data"]["deconflictionHits"]["nodes"] for k in ("recordId", "otherRecordId")}
    assert not hidden & named
    for record_id in named - {None}:
        found = await gql(
            client, "unmik.chief", "query($id: ID!) { node(id: $id) { id } }", {"id": record_id}
        )
        assert found["data"]["node"] == {"id": record_id}
    # An agency with no part in any hit sees none, and no count either.
    assert await _walk(client, "omik.adviser", "deconflictionHits") == ([], 0)
    await _assert_bounded(client, "unmik.chief", "deconflictionHits")


async def test_grants_page_only_on_a_readable_record(client: httpx.AsyncClient) -> None:
    case_id = await new_case(client, "unmik.analyst")
    for grantee in ({"agency": "KFOR"}, {"user": "eulex.prosecutor"}, {"agency": "OMIK"}):
        body = {**grantee, "expires_at": _at(days=30), "reason": "Joint bridge patrols."}
        response = await client.post(
            f"/api/v1/records/{case_id}/grants", json=body, headers=auth("unmik.analyst")
        )
        assert response.status_code == 201, response.text
    args = f'recordId: "{case_id}",'
    ids, total = await _walk(client, "kfor.j2", "grants", args)
    assert total == 3
    assert sorted(ids) == sorted(await _rest_ids(client, "kfor.j2", f"records/{case_id}/grants"))
    await _assert_bounded(client, "kfor.j2", "grants", args)
    # Whoever may not read the record learns nothing of its grants: not even that it exists.
    hidden = await gql(client, "interpol.liaison", f"{{ grants({args} first: 1) {{ totalCount }} }}")
    assert hidden["data"] is None
    assert hidden["errors"][0]["message"] == "record not found"


async def test_access_requests_page_and_drop_what_the_decider_may_not_read(
    client: httpx.AsyncClient, db_url: str
) -> None:
    asked = {}
    for classification in ("RESTRICTED", "CONFIDENTIAL", "RESTRICTED"):
        case_id = await new_case(client, "unmik.analyst", classification=classification)
        body = {"record_id": case_id, "reason": "The same courier network, seen at Dragash."}
        response = await client.post("/api/v1/access-requests", json=body, headers=auth("kfor.j2"))
        assert response.status_code == 202, response.text
        asked[response.json()["id"]] = classification
    outgoing, _ = await _walk(client, "kfor.j2", "accessRequests")
    assert set(asked) <= set(outgoing)
    assert sorted(outgoing) == sorted(await _rest_ids(client, "kfor.j2", "access-requests"))
    incoming_args = "direction: INCOMING, status: PENDING,"
    incoming, _ = await _walk(client, "unmik.chief", "accessRequests", incoming_args)
    assert set(asked) <= set(incoming)
    assert sorted(incoming) == sorted(
        await _rest_ids(client, "unmik.chief", "access-requests", direction="incoming", status="pending")
    )
    await _assert_bounded(client, "unmik.chief", "accessRequests", incoming_args)
    # A decider cleared below a record no longer reads it, and so no longer sees requests for it.
    await lower_clearance(db_url, "unmik.chief", Classification.RESTRICTED)
    cleared, total = await _walk(client, "unmik.chief", "accessRequests", incoming_args)
    confidential = {request for request, c in asked.items() if c == "CONFIDENTIAL"}
    assert confidential
    assert not confidential & set(cleared)
    assert total == len(incoming) - len(confidential)


async def test_sharing_groups_and_agreements_page(client: httpx.AsyncClient) -> None:
    for name in ("Ibar bridge cell", "Airport cell", "Dragash border cell"):
        assert (await new_group(client, "unmik.chief", name, ["KFOR"])).status_code == 201
    groups, _ = await _walk(client, "unmik.chief", "sharingGroups")
    assert groups == await _rest_ids(client, "unmik.chief", "sharing-groups")  # by name, both
    assert len(groups) >= 3
    await _assert_bounded(client, "unmik.chief", "sharingGroups")
    for days in (1, 2):
        body = {
            "title": f"UNMIK-OMIK exchange {days}",
            "grantee_agency": "OMIK",
            "valid_from": _at(days=days),
            "valid_until": _at(days=90),
        }
        response = await client.post("/api/v1/agreements", json=body, headers=auth("unmik.chief"))
        assert response.status_code == 201, response.text
    agreements, total = await _walk(client, "unmik.chief", "agreements")
    assert total >= 2
    assert agreements == await _rest_ids(client, "unmik.chief", "agreements")
    await _assert_bounded(client, "unmik.chief", "agreements")


async def test_responsibility_transfers_page(client: httpx.AsyncClient) -> None:
    matrix = await client.get(
        "/api/v1/responsibilities/matrix",
        params={"theatre": "KOS", "on": "2020-01-01"},
        headers=auth("unmik.chief"),
    )
    open_ended = [r for r in matrix.json()["responsibilities"] if r["valid_until"] is None]
    # One offered to EULEX, one EULEX offers: both are EULEX's to see.
    for giver, receiver in (("UNMIK", "EULEX"), ("EULEX", "OMIK")):
        responsibility = next(r for r in open_ended if r["agency"] == giver)
        body = {
            "responsibility_id": responsibility["id"],
            "to_agency": receiver,
            "effective_date": "2020-03-01",
        }
        login = f"{giver.lower()}.chief"
        response = await client.post("/api/v1/responsibility-transfers", json=body, headers=auth(login))
        assert response.status_code == 201, response.text
    ids, total = await _walk(client, "eulex.chief", "responsibilityTransfers")
    assert total >= 2
    assert sorted(ids) == sorted(await _rest_ids(client, "eulex.chief", "responsibility-transfers"))
    assert await _walk(client, "kfor.j2", "responsibilityTransfers", "status: OFFERED,") == ([], 0)
    await _assert_bounded(client, "eulex.chief", "responsibilityTransfers")


async def _handover_to_omik(client: httpx.AsyncClient) -> str:
    body = {
        "title": "UNMIK to OMIK: monitoring files",
        "incoming_agency": "OMIK",
        "theatre": "KOS",
        "cut_off": "2008-12-09",
    }
    response = await client.post("/api/v1/handovers", json=body, headers=auth("unmik.chief"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("login", ["unmik.chief", "eulex.chief", "unmik.analyst", "kfor.j2"])
async def test_handovers_page_for_those_taking_part(client: httpx.AsyncClient, login: str) -> None:
    await _handover_to_omik(client)
    ids, _ = await _walk(client, login, "handovers")
    assert sorted(ids) == sorted(await _rest_ids(client, login, "handovers"))
    await _assert_bounded(client, login, "handovers")


async def test_consent_requests_page(client: httpx.AsyncClient) -> None:
    # A second inventory of UNMIK's holdings asks KFOR again about the material it originated.
    handover_id = await _handover_to_omik(client)
    built = await client.post(f"/api/v1/handovers/{handover_id}/inventory", headers=auth("unmik.chief"))
    assert built.status_code == 200, built.text
    ids, total = await _walk(client, "kfor.j2", "consentRequests", key="lineId")
    assert total >= 2
    # Lines of one inventory share a timestamp: REST breaks the tie by line number, GraphQL by id.
    assert sorted(ids) == sorted(await _rest_ids(client, "kfor.j2", "handover-consents", key="line_id"))
    pending, _ = await _walk(client, "kfor.j2", "consentRequests", "status: PENDING,", key="lineId", first=2)
    assert set(pending) <= set(ids)
    await _assert_bounded(client, "kfor.j2", "consentRequests")
