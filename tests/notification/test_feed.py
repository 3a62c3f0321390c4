"""The notification feed: what concerns each user, and never more than they may know."""

import uuid
from typing import Any

import httpx

from ocpo_coord.models import Notification
from tests.conftest import auth, gql
from tests.fixtures.queries import count_rows


async def _feed(client: httpx.AsyncClient, login: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/notifications", params=params, headers=auth(login))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_hits_reach_the_contact_positions_holder(client: httpx.AsyncClient) -> None:
    feed = await _feed(client, "kfor.j2", kind="deconfliction_hit")
    titles = [n["title"] for n in feed["items"]]
    assert "Deconfliction hit: UNMIK holds a matching operation in the same place and time" in titles
    assert feed["unread_count"] >= len(feed["items"])
    # An analyst who holds no contact position and coordinates nothing is not told.
    assert (await _feed(client, "unmik.analyst", kind="deconfliction_hit"))["items"] == []
    hits = await client.get("/api/v1/deconfliction-hits", headers=auth("unmik.analyst"))
    assert hits.json() == []


async def test_feed_pages_with_a_cursor_and_marks_read(client: httpx.AsyncClient) -> None:
    first = await _feed(client, "unmik.chief", limit=2)
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = await _feed(client, "unmik.chief", limit=2, after=first["next_cursor"])
    assert {n["id"] for n in first["items"]}.isdisjoint({n["id"] for n in second["items"]})
    everything = await _feed(client, "unmik.chief", limit=100)
    assert everything["total_count"] == len(everything["items"])
    unread = everything["unread_count"]
    # Marking another user's notification does nothing to it.
    theirs = (await _feed(client, "kfor.j2"))["items"][0]
    marked = await client.post(
        "/api/v1/notifications/read",
        json={"ids": [first["items"][0]["id"], theirs["id"]]},
        headers=auth("unmik.chief"),
    )
    assert marked.json() == {"marked": 1}
    assert (await _feed(client, "unmik.chief"))["unread_count"] == unread - 1
    assert (await _feed(client, "kfor.j2", unread="true"))["items"][0]["id"] == theirs["id"]
    await client.post("/api/v1/notifications/read", json={}, headers=auth("unmik.chief"))
    assert (await _feed(client, "unmik.chief"))["unread_count"] == 0
    assert (await _feed(client, "unmik.chief", unread="true"))["items"] == []
    bad = await client.get("/api/v1/notifications", params={"after": "garbage"}, headers=auth("unmik.chief"))
    assert bad.status_code == 422
    assert "after" in bad.text


async def test_task_assignment_is_notified_only_to_readers(client: httpx.AsyncClient) -> None:
    shared = await client.post(
        "/api/v1/tasks",
        json={
            "title": "Interview the tanker driver",
            "activity_area": "operations_against_oc",
            "theatre": "KOS",
            "assignee_login": "eulex.prosecutor",
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["EULEX"]},
        },
        headers=auth("unmik.chief"),
    )
    assert shared.status_code == 201, shared.text
    task_id = shared.json()["id"]
    feed = await _feed(client, "eulex.prosecutor", kind="task_assigned")
    mine = [n for n in feed["items"] if n["subject_id"] == task_id]
    assert len(mine) == 1
    assert mine[0]["record_id"] == task_id
    assert "tanker" not in mine[0]["title"] + mine[0]["body"]
    # Work is never assigned to someone who may not read it: narrowing it past its
    # assignee is refused, and so is assigning it to someone who may not read it.
    narrowing = {"markings": {"classification": "RESTRICTED", "tlp": "AMBER+STRICT"}}
    refused = await client.patch(f"/api/v1/tasks/{task_id}", json=narrowing, headers=auth("unmik.chief"))
    assert refused.status_code == 422, refused.text
    assert (await client.get(f"/api/v1/tasks/{task_id}", headers=auth("eulex.prosecutor"))).status_code == 200
    # Unassigned, then narrowed: the notification stays but no longer points at the task.
    unassigned = await client.patch(
        f"/api/v1/tasks/{task_id}", json={"assignee_login": None}, headers=auth("unmik.chief")
    )
    assert unassigned.status_code == 200, unassigned.text
    # AMBER+STRICT with no release: the UNMIK-EULEX agreement no longer reaches it.
    narrowed = await client.patch(f"/api/v1/tasks/{task_id}", json=narrowing, headers=auth("unmik.chief"))
    assert narrowed.status_code == 200
    hidden_now = await client.get(f"/api/v1/tasks/{task_id}", headers=auth("eulex.prosecutor"))
    assert hidden_now.status_code == 404
    after = [n for n in (await _feed(client, "eulex.prosecutor"))["items"] if n["subject_id"] == task_id]
    assert after[0]["record_id"] is None
    hidden = await client.post(
        "/api/v1/tasks",
        json={
            "title": "Vet the new interpreter",
            "activity_area": "information_gathering",
            "theatre": "KOS",
            "assignee_login": "kfor.j2",
        },
        headers=auth("unmik.chief"),
    )
    assert hidden.status_code == 422
    assert "assignee_login" in hidden.text
    kfor = await _feed(client, "kfor.j2", kind="task_assigned")
    assert all("interpreter" not in n["title"] + n["body"] for n in kfor["items"])


async def test_reassignment_to_a_position_tells_its_holder(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/tasks",
        json={
            "title": "Locate the bar manager's second phone",
            "activity_area": "operational_support_local_le",
            "theatre": "KOS",
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["KP"]},
        },
        headers=auth("eulex.chief"),
    )
    assert created.status_code == 201, created.text
    seeded = (
        await client.get("/api/v1/tasks", params={"limit": 100}, headers=auth("kp.investigator"))
    ).json()
    position_id = next(
        t["assignee_position_id"]
        for t in seeded["items"]
        if t["assignee_position"] and "Gjilan Regional Directorate" in t["assignee_position"]
    )
    moved = await client.patch(
        f"/api/v1/tasks/{created.json()['id']}",
        json={"assignee_position_id": position_id},
        headers=auth("eulex.chief"),
    )
    assert moved.status_code == 200, moved.text
    # kp.investigator holds the Gjilan post (an open tour).
    feed = await _feed(client, "kp.investigator", kind="task_assigned")
    told = [n for n in feed["items"] if n["subject_id"] == created.json()["id"]]
    assert len(told) == 1
    assert "Gjilan" in told[0]["title"]
    # Saving again without a change tells nobody twice.
    await client.patch(
        f"/api/v1/tasks/{created.json()['id']}",
        json={"assignee_position_id": position_id, "priority": "high"},
        headers=auth("eulex.chief"),
    )
    again = await _feed(client, "kp.investigator", kind="task_assigned")
    assert len([n for n in again["items"] if n["subject_id"] == created.json()["id"]]) == 1


async def test_access_requests_reach_the_deciders(client: httpx.AsyncClient, db_url: str) -> None:
    cases = (await client.get("/api/v1/cases", params={"limit": 100}, headers=auth("kfor.j2"))).json()[
        "items"
    ]
    motel = next(c for c in cases if c["reference"].startswith("KFOR") and "Ferizaj" in c["title"])
    before = await count_rows(db_url, Notification)
    nowhere = await client.post(
        "/api/v1/access-requests",
        json={"record_id": str(uuid.uuid4()), "reason": "We hold a matching phone number."},
        headers=auth("eulex.prosecutor"),
    )
    assert nowhere.status_code == 202
    assert await count_rows(db_url, Notification) == before
    asked = await client.post(
        "/api/v1/access-requests",
        json={"record_id": motel["id"], "reason": "We hold a matching phone number."},
        headers=auth("eulex.prosecutor"),
    )
    assert asked.status_code == 202
    feed = await _feed(client, "kfor.j2", kind="access_request")
    assert [(n["subject_id"], n["record_id"]) for n in feed["items"]] == [(asked.json()["id"], motel["id"])]
    assert "EULEX" in feed["items"][0]["title"]


async def test_feed_through_graphql(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "kfor.j2",
        """{ notifications(first: 2) { totalCount unreadCount pageInfo { hasNextPage endCursor }
             edges { cursor node { id kind title recordId } } } }""",
    )
    assert "errors" not in body, body
    page = body["data"]["notifications"]
    assert len(page["edges"]) == 2
    assert page["pageInfo"]["hasNextPage"] is True
    more = await gql(
        client,
        "kfor.j2",
        "query($after: String) { notifications(first: 50, after: $after) { edges { node { id } } } }",
        {"after": page["pageInfo"]["endCursor"]},
    )
    assert len(more["data"]["notifications"]["edges"]) == page["totalCount"] - 2
    marked = await gql(
        client,
        "kfor.j2",
        "mutation { markNotificationsRead { __typename ... on MarkReadPayload { marked } } }",
    )
    assert marked["data"]["markNotificationsRead"]["marked"] == page["unreadCount"]
