"""Auditors query the log; each entry is visible only as far as what it describes."""

import httpx

from tests.conftest import auth, gql


async def _events(client: httpx.AsyncClient, login: str, **params: str) -> list[dict[str, object]]:
    response = await client.get("/api/v1/audit-events", params={"limit": 100, **params}, headers=auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_only_auditors_and_admins_read_the_log(client: httpx.AsyncClient) -> None:
    for login in ("unmik.analyst", "kfor.j2", "admin"):
        assert (await client.get("/api/v1/audit-events", headers=auth(login))).status_code == 403
    assert await _events(client, "unmik.chief")


async def test_entries_follow_the_records_they_describe(client: httpx.AsyncClient) -> None:
    chief = (
        await client.get("/api/v1/cases", params={"text": "UNMIK-2007-0131"}, headers=auth("unmik.chief"))
    ).json()
    secret_id = str(chief["items"][0]["id"])
    # KFOR asks about UNMIK's SECRET case; the refusal is logged against that case.
    assert (await client.get(f"/api/v1/cases/{secret_id}", headers=auth("kfor.j2"))).status_code == 404
    unmik = await _events(client, "unmik.chief", record_id=secret_id)
    assert "access.refused" in {e["action"] for e in unmik}
    assert "case.create" in {e["action"] for e in unmik}
    # EULEX's chief may read that case (released AMBER+STRICT): sees its history too.
    assert await _events(client, "eulex.chief", record_id=secret_id)
    # The host-nation police never learn of it, not even through the log.
    kp_admin = await client.post(
        "/graphql",
        json={
            "query": "query($id: UUID) { auditEvents(first: 100, filter: {recordId: $id}) { nodes { action } } }",
            "variables": {"id": secret_id},
        },
        headers=auth("kp.investigator"),
    )
    assert kp_admin.status_code == 200
    assert kp_admin.json()["data"] is None  # not an auditor: refused outright
    everything = {str(e["record_id"]) for e in await _events(client, "eulex.chief")}
    hidden = (
        await client.get("/api/v1/cases", params={"text": "UNMIK-2008-0019"}, headers=auth("unmik.chief"))
    ).json()
    assert str(hidden["items"][0]["id"]) not in everything  # restricted case: eulex.chief is no member


async def test_pages_walk_the_chain_backwards(client: httpx.AsyncClient) -> None:
    first = (
        await client.get("/api/v1/audit-events", params={"limit": 5}, headers=auth("unmik.chief"))
    ).json()
    second = (
        await client.get(
            "/api/v1/audit-events",
            params={"limit": 5, "after": first["next_cursor"]},
            headers=auth("unmik.chief"),
        )
    ).json()
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == 10
    body = await gql(
        client,
        "unmik.chief",
        "{ auditEvents(first: 3) { totalCount nodes { seq action hash } pageInfo { hasNextPage endCursor } } }",
    )
    events = body["data"]["auditEvents"]
    assert [e["seq"] for e in events["nodes"]] == seqs[:3]
    assert events["pageInfo"] == {"hasNextPage": True, "endCursor": str(seqs[2])}
    assert events["totalCount"] >= 10
    after = await gql(
        client,
        "unmik.chief",
        "query($after: String) { auditEvents(first: 3, after: $after) { nodes { seq } } }",
        {"after": events["pageInfo"]["endCursor"]},
    )
    assert [e["seq"] for e in after["data"]["auditEvents"]["nodes"]] == seqs[3:6]
