"""Work is never left with someone who may no longer read it: a write that narrows who
reads a task without touching it (its case's members or markings, an agreement ended, an
agency leaving a sharing group) takes the assignment back, audits it and tells the lead
agency; the narrowing itself is never refused for it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import auth

AREA = {"activity_area": "information_gathering", "theatre": "KOS"}


async def _post(client: httpx.AsyncClient, login: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{path}", json=body, headers=auth(login))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _task(client: httpx.AsyncClient, login: str, task_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tasks/{task_id}", headers=auth(login))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _unassign_entries(client: httpx.AsyncClient, login: str, task_id: str) -> list[dict[str, Any]]:
    page = await client.get("/api/v1/audit-events", params={"record_id": task_id}, headers=auth(login))
    assert page.status_code == 200, page.text
    return [e for e in page.json()["items"] if e["action"] == "task.unassign"]


async def _told(client: httpx.AsyncClient, login: str, task_id: str) -> list[dict[str, Any]]:
    feed = await client.get("/api/v1/notifications", params={"kind": "task_unassigned"}, headers=auth(login))
    assert feed.status_code == 200, feed.text
    return [n for n in feed.json()["items"] if n["subject_id"] == task_id]


async def test_leaving_a_restricted_case_takes_its_tasks_back(client: httpx.AsyncClient) -> None:
    case = await _post(
        client,
        "unmik.chief",
        "cases",
        {
            "title": "Witness protection file",
            "theatre": "KOS",
            "restricted": True,
            "members": ["unmik.chief", "unmik.analyst"],
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
        },
    )
    task = await _post(
        client,
        "unmik.chief",
        "tasks",
        {"title": "Move the witness", **AREA, "case_id": case["id"], "assignee_login": "unmik.analyst"},
    )
    kept = await _post(
        client, "unmik.chief", "tasks", {"title": "Brief the prosecutor", **AREA, "case_id": case["id"]}
    )
    assert (await _task(client, "unmik.analyst", task["id"]))["assignee"] == "unmik.analyst"

    narrowed = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"members": ["unmik.chief"], "expected_version": case["version"]},
        headers=auth("unmik.chief"),
    )
    assert narrowed.status_code == 200, "narrowing is never refused for the work it strands"
    assert (await client.get(f"/api/v1/tasks/{task['id']}", headers=auth("unmik.analyst"))).status_code == 404
    after = await _task(client, "unmik.chief", task["id"])
    assert after["assignee"] is None
    assert after["version"] == task["version"] + 1, "clients holding the old version must re-read it"
    entries = await _unassign_entries(client, "unmik.chief", task["id"])
    assert len(entries) == 1
    assert entries[0]["actor_name"].endswith("(unmik.chief)")
    # The unassigned task is the only one touched; the former assignee is told nothing.
    assert (await _task(client, "unmik.chief", kept["id"]))["version"] == kept["version"]
    assert await _told(client, "unmik.analyst", task["id"]) == []


async def test_raising_a_cases_markings_past_the_assignee_unassigns_and_tells_the_lead(
    client: httpx.AsyncClient,
) -> None:
    case = await _post(
        client,
        "unmik.chief",
        "cases",
        {
            "title": "Port of Durres shipments",
            "theatre": "KOS",
            "participating_agencies": ["EULEX"],
            "markings": {"classification": "UNCLASSIFIED", "tlp": "GREEN"},
        },
    )
    task = await _post(
        client,
        "eulex.chief",
        "tasks",
        {
            "title": "Trace the containers",
            **AREA,
            "case_id": case["id"],
            "assignee_login": "unmik.analyst",
            "markings": {"classification": "UNCLASSIFIED", "tlp": "GREEN"},
        },
    )
    raised = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={
            "markings": {"classification": "SECRET", "tlp": "AMBER", "releasable_to": ["EULEX"]},
            "expected_version": case["version"],
        },
        headers=auth("unmik.chief"),
    )
    assert raised.status_code == 200, raised.text
    assert (await _task(client, "unmik.chief", task["id"]))["assignee"] is None
    # EULEX leads the task; its coordinators who may still read it are told.
    told = await _told(client, "eulex.chief", task["id"])
    assert len(told) == 1
    assert "new assignee" in told[0]["title"]
    assert await _told(client, "unmik.analyst", task["id"]) == []


async def test_an_ended_agreement_takes_back_work_it_made_readable(client: httpx.AsyncClient) -> None:
    case = await _post(
        client,
        "eulex.prosecutor",
        "cases",
        {
            "title": "Fuel smuggling at Jarinje",
            "theatre": "KOS",
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
        },
    )
    now = datetime.now(UTC)
    agreement = await _post(
        client,
        "eulex.chief",
        "agreements",
        {
            "title": "EULEX-UNMIK residual files",
            "grantee_agency": "UNMIK",
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=30)).isoformat(),
        },
    )
    task = await _post(
        client,
        "eulex.prosecutor",
        "tasks",
        {
            "title": "Collect the customs ledgers",
            **AREA,
            "case_id": case["id"],
            "assignee_login": "unmik.analyst",
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
        },
    )
    ended = await client.post(f"/api/v1/agreements/{agreement['id']}/end", headers=auth("eulex.chief"))
    assert ended.status_code == 200, ended.text
    after = await _task(client, "eulex.prosecutor", task["id"])
    assert after["assignee"] is None
    assert len(await _unassign_entries(client, "eulex.chief", task["id"])) == 1
