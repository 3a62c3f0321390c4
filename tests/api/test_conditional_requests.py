"""ETag/If-Match, Idempotency-Key, and the audit of reads and refused access."""

import httpx

from tests.conftest import auth, gql
from tests.fixtures.queries import audit_rows

NEW_CASE = {"title": "Fuel smuggling at Gate 31", "theatre": "KOS", "crime_types": ["smuggling"]}


async def _own_case(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.post("/api/v1/cases", json=NEW_CASE, headers=auth("eulex.prosecutor"))
    assert response.status_code == 201
    assert response.headers["ETag"] == '"v1"'
    body: dict[str, object] = response.json()
    return body


async def test_if_match_guards_against_lost_updates(client: httpx.AsyncClient) -> None:
    case = await _own_case(client)
    path = f"/api/v1/cases/{case['id']}"
    got = await client.get(path, headers=auth("eulex.prosecutor"))
    tag = got.headers["ETag"]
    first = await client.patch(
        path, json={"priority": "high"}, headers={**auth("eulex.prosecutor"), "If-Match": tag}
    )
    assert first.status_code == 200
    assert first.headers["ETag"] == '"v2"'
    stale = await client.patch(
        path, json={"priority": "low"}, headers={**auth("eulex.prosecutor"), "If-Match": tag}
    )
    assert stale.status_code == 412
    assert stale.json()["detail"]["field"] == "If-Match"
    assert (await client.get(path, headers=auth("eulex.prosecutor"))).json()["priority"] == "high"
    garbage = await client.patch(
        path, json={"priority": "low"}, headers={**auth("eulex.prosecutor"), "If-Match": "whatever"}
    )
    assert garbage.status_code == 412
    anything = await client.patch(
        path, json={"priority": "low"}, headers={**auth("eulex.prosecutor"), "If-Match": "*"}
    )
    assert anything.status_code == 200


async def test_idempotency_key_replays_and_creates_once(client: httpx.AsyncClient) -> None:
    headers = {**auth("eulex.prosecutor"), "Idempotency-Key": "c6a5e0e2-retry-test"}
    first = await client.post("/api/v1/cases", json=NEW_CASE, headers=headers)
    second = await client.post("/api/v1/cases", json=NEW_CASE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    found = await client.get("/api/v1/cases", params={"text": "Gate 31"}, headers=auth("eulex.prosecutor"))
    assert found.json()["total_count"] == 1
    other = await client.post("/api/v1/cases", json={**NEW_CASE, "title": "Another"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"]["field"] == "Idempotency-Key"
    # Keys belong to their user: the same key from someone else is a new request.
    theirs = await client.post(
        "/api/v1/cases",
        json=NEW_CASE,
        headers={**auth("eulex.chief"), "Idempotency-Key": "c6a5e0e2-retry-test"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


async def test_protected_reads_are_audited_public_ones_are_not(
    client: httpx.AsyncClient, db_url: str
) -> None:
    listing = (
        await client.get("/api/v1/cases", params={"limit": 100}, headers=auth("unmik.analyst"))
    ).json()["items"]
    protected = next(c for c in listing if c["markings"]["tlp"] != "CLEAR")
    public = next(
        c
        for c in listing
        if c["markings"]["tlp"] == "CLEAR" and c["markings"]["classification"] == "UNCLASSIFIED"
    )
    before = len(await audit_rows(db_url))
    await client.get(f"/api/v1/cases/{protected['id']}", headers=auth("unmik.analyst"))
    await client.get(f"/api/v1/cases/{public['id']}", headers=auth("unmik.analyst"))
    await gql(client, "unmik.analyst", "query($id: ID!) { node(id: $id) { id } }", {"id": protected["id"]})
    rows = (await audit_rows(db_url))[before:]
    reads = [(r.action, str(r.record_id)) for r in rows]
    assert reads == [("case.read", protected["id"]), ("case.read", protected["id"])]
    assert rows[0].actor_name.endswith("(unmik.analyst)")


async def test_refused_access_is_audited_on_both_apis(client: httpx.AsyncClient, db_url: str) -> None:
    chief = (
        await client.get("/api/v1/cases", params={"text": "UNMIK-2007-0131"}, headers=auth("unmik.chief"))
    ).json()
    secret_id = chief["items"][0]["id"]
    before = len(await audit_rows(db_url))
    refused = await client.get(f"/api/v1/cases/{secret_id}", headers=auth("kp.investigator"))
    assert refused.status_code == 404
    edit = await client.patch(
        f"/api/v1/cases/{secret_id}", json={"title": "x"}, headers=auth("kp.investigator")
    )
    assert edit.status_code == 404
    body = await gql(client, "kp.investigator", "query($id: ID!) { case(id: $id) { id } }", {"id": secret_id})
    assert body["data"] == {"case": None}
    rows = (await audit_rows(db_url))[before:]
    assert [r.action for r in rows] == ["access.refused"] * 3
    assert [str(r.record_id) for r in rows[:2]] == [secret_id, secret_id]
    assert all(r.actor_name.endswith("(kp.investigator)") for r in rows)
