"""Task board: filters, group counts and flags, all within the sharing rule."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from ocpo_coord.models.enums import ACTIVITY_AXES, ActionAxis, CrimeAxis
from tests.conftest import auth, gql


async def _tasks(client: httpx.AsyncClient, login: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/tasks", params={"limit": 100, **params}, headers=auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _summary(client: httpx.AsyncClient, login: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/tasks/summary", params=params, headers=auth(login))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _task(client: httpx.AsyncClient, login: str, **body: Any) -> dict[str, Any]:
    payload = {
        "title": "Check the ledger",
        "activity_area": "information_gathering",
        "theatre": "KOS",
        **body,
    }
    response = await client.post("/api/v1/tasks", json=payload, headers=auth(login))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _counts(groups: list[dict[str, Any]]) -> dict[str, int]:
    return {g["key"]: g["count"] for g in groups}


async def test_filters_by_lead_and_supporting_agency(client: httpx.AsyncClient) -> None:
    lead = await _tasks(client, "unmik.chief", lead_agency="EULEX")
    assert lead
    assert {t["lead_agency"] for t in lead} == {"EULEX"}
    supporting = await _tasks(client, "unmik.chief", supporting_agency="KP")
    assert supporting
    assert all("KP" in t["supporting_agencies"] for t in supporting)
    either = await _tasks(client, "unmik.chief", agency="KP")
    assert {t["id"] for t in supporting} <= {t["id"] for t in either}
    assert await _tasks(client, "unmik.chief", lead_agency="NOPE") == []


async def test_filters_by_axis(client: httpx.AsyncClient) -> None:
    drivers = await _tasks(client, "eulex.chief", crime_axis="drivers")
    direct = await _tasks(client, "eulex.chief", crime_axis="consequences", action_axis="direct")
    for task in drivers:
        assert ACTIVITY_AXES[task["activity_area"]][0] is CrimeAxis.DRIVERS
    for task in direct:
        assert ACTIVITY_AXES[task["activity_area"]] == (CrimeAxis.CONSEQUENCES, ActionAxis.DIRECT)
    everything = await _tasks(client, "eulex.chief")
    assert len(await _tasks(client, "eulex.chief", crime_axis="consequences")) + len(drivers) == len(
        everything
    )
    bad = await client.get("/api/v1/tasks", params={"crime_axis": "sideways"}, headers=auth("eulex.chief"))
    assert bad.status_code == 422
    assert "crime_axis" in bad.text


async def test_assignee_filter(client: httpx.AsyncClient) -> None:
    created = await _task(client, "eulex.chief", assignee_login="eulex.prosecutor")
    found = await _tasks(client, "eulex.chief", assignee="eulex.prosecutor")
    assert created["id"] in {t["id"] for t in found}
    assert all(t["assignee"] == "eulex.prosecutor" for t in found)
    assert await _tasks(client, "eulex.chief", assignee="nobody.at.all") == []


async def test_blocked_by_status_or_by_an_open_readable_dependency(client: httpx.AsyncClient) -> None:
    first = await _task(client, "eulex.chief", status="in_progress")
    second = await _task(client, "eulex.chief", depends_on=[first["id"]], status="accepted")
    assert second["blocked"] is True
    blocked_ids = {t["id"] for t in await _tasks(client, "eulex.chief", blocked=True)}
    assert second["id"] in blocked_ids
    assert first["id"] not in blocked_ids
    done = await client.patch(
        f"/api/v1/tasks/{first['id']}", json={"status": "done"}, headers=auth("eulex.chief")
    )
    assert done.status_code == 200
    again = await client.get(f"/api/v1/tasks/{second['id']}", headers=auth("eulex.chief"))
    assert again.json()["blocked"] is False
    assert second["id"] not in {t["id"] for t in await _tasks(client, "eulex.chief", blocked=True)}


async def test_a_hidden_dependency_neither_blocks_nor_shows(client: httpx.AsyncClient) -> None:
    case = await client.post(
        "/api/v1/cases",
        json={
            "title": "Internal inquiry into a customs officer",
            "theatre": "KOS",
            "restricted": True,
            "members": ["unmik.chief"],
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["EULEX"]},
        },
        headers=auth("unmik.chief"),
    )
    assert case.status_code == 201, case.text
    hidden = await _task(client, "unmik.chief", case_id=case.json()["id"], status="in_progress")
    visible = await _task(
        client,
        "unmik.chief",
        title="Brief EULEX on the Gate 1 fuel convoy",
        depends_on=[hidden["id"]],
        markings={"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["EULEX"]},
    )
    assert visible["blocked"] is True  # the member sees why
    seen = await client.get(f"/api/v1/tasks/{visible['id']}", headers=auth("eulex.chief"))
    assert seen.status_code == 200
    assert seen.json()["depends_on"] == []
    assert seen.json()["blocked"] is False
    assert visible["id"] not in {t["id"] for t in await _tasks(client, "eulex.chief", blocked=True)}


async def test_group_counts_count_only_readable_tasks(client: httpx.AsyncClient) -> None:
    before_member = await _summary(client, "unmik.chief", theatre="KOS")
    before_other = await _summary(client, "unmik.analyst", theatre="KOS")
    case = await client.post(
        "/api/v1/cases",
        json={
            "title": "Witness protection file",
            "theatre": "KOS",
            "restricted": True,
            "members": ["unmik.chief"],
        },
        headers=auth("unmik.chief"),
    )
    assert case.status_code == 201, case.text
    await _task(
        client,
        "unmik.chief",
        case_id=case.json()["id"],
        activity_area="demand_reduction",
        due_date="2001-01-01",
    )
    member = await _summary(client, "unmik.chief", theatre="KOS")
    other = await _summary(client, "unmik.analyst", theatre="KOS")
    assert member["total"] == before_member["total"] + 1
    assert member["overdue"] == before_member["overdue"] + 1
    assert _counts(member["by_activity_area"]).get("demand_reduction", 0) == (
        _counts(before_member["by_activity_area"]).get("demand_reduction", 0) + 1
    )
    # Same agency, not a member: every count is unchanged.
    assert other == before_other
    assert await _tasks(client, "unmik.analyst", case_id=case.json()["id"]) == []


async def test_summary_agrees_with_the_list(client: httpx.AsyncClient) -> None:
    for login in ("eulex.chief", "kp.investigator", "kfor.j2"):
        tasks = await _tasks(client, login)
        summary = await _summary(client, login)
        assert summary["total"] == len(tasks)
        assert summary["overdue"] == sum(t["overdue"] for t in tasks)
        assert summary["blocked"] == sum(t["blocked"] for t in tasks)
        statuses: dict[str, int] = {}
        leads: dict[str, int] = {}
        for t in tasks:
            statuses[t["status"]] = statuses.get(t["status"], 0) + 1
            leads[t["lead_agency"]] = leads.get(t["lead_agency"], 0) + 1
        assert _counts(summary["by_status"]) == statuses
        assert _counts(summary["by_lead_agency"]) == leads
        assert sum(_counts(summary["by_crime_axis"]).values()) == len(tasks)


async def test_task_board_through_graphql(client: httpx.AsyncClient) -> None:
    first = await _task(client, "eulex.chief", status="in_progress")
    await _task(client, "eulex.chief", title="Second step", depends_on=[first["id"]])
    body = await gql(
        client,
        "eulex.chief",
        """{ taskBoardSummary(filter: {theatre: "KOS"}) { total blocked byStatus { key count } }
             tasks(first: 5, filter: {blocked: true, leadAgency: "EULEX"}) {
               nodes { title blocked crimeAxis actionAxis dependencies { title status } } } }""",
    )
    assert "errors" not in body, body
    nodes = body["data"]["tasks"]["nodes"]
    second = next(n for n in nodes if n["title"] == "Second step")
    assert second["dependencies"] == [{"title": "Check the ledger", "status": "IN_PROGRESS"}]
    assert body["data"]["taskBoardSummary"]["blocked"] >= 1


async def test_dependencies_cost_the_same_queries_for_any_page_size(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    query = """query($first: Int!) { tasks(first: $first) { nodes { title blocked
                 dependencies { title blocked dependencies { title } } } } }"""
    root = await _task(client, "unmik.chief", title="Root", status="in_progress")
    middle = await _task(client, "unmik.chief", title="Middle", depends_on=[root["id"]])
    await _task(client, "unmik.chief", title="Leaf", depends_on=[middle["id"]])
    counts = {}
    engine = app.state.sessionmaker.kw["bind"].sync_engine
    for first in (10, 16):
        seen: list[str] = []

        def count(*args: Any, into: list[str] = seen) -> None:
            into.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        body = await gql(client, "unmik.chief", query, {"first": first})
        event.remove(engine, "before_cursor_execute", count)
        nodes = body["data"]["tasks"]["nodes"]
        assert len(nodes) == first
        # Both pages have dependencies two levels deep, so every loader runs on both.
        assert any(d["dependencies"] for n in nodes for d in n["dependencies"])
        counts[first] = len(seen)
    assert counts[10] == counts[16], counts
