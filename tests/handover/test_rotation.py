"""Rotation: the tour-end report, and a position-to-position handover with the same guard."""

import uuid

import httpx
from sqlmodel import col, select

from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import CaseMember, Task, User
from tests.conftest import auth
from tests.fixtures.handover import decide, lines

CHIEF, SUCCESSOR = "unmik.chief", "unmik.analyst"


async def test_tour_end_report_lists_what_must_be_reassigned(client: httpx.AsyncClient) -> None:
    report = await client.get(f"/api/v1/rotations/report/{CHIEF}", headers=auth(CHIEF))
    assert report.status_code == 200, report.text
    body = report.json()
    assert any(t["position"].startswith("Head of Kosovo Organised Crime Bureau") for t in body["tours"])
    assert body["open_tasks"] or body["cases"], "the demo chief leaves work behind"
    # Colleagues without a coordinating role, and other agencies, learn nothing.
    assert (await client.get(f"/api/v1/rotations/report/{CHIEF}", headers=auth(SUCCESSOR))).status_code == 404
    assert (
        await client.get(f"/api/v1/rotations/report/{CHIEF}", headers=auth("eulex.chief"))
    ).status_code == 404


async def case_members(db_url: str) -> set[tuple[str, str]]:
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            rows = (
                await session.exec(
                    select(CaseMember.case_id, User.login).join(User, col(User.id) == col(CaseMember.user_id))
                )
            ).all()
            return {(str(case_id), login) for case_id, login in rows}
    finally:
        await engine.dispose()


async def task_assignees(db_url: str, ids: set[str]) -> dict[str, str]:
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            rows = (
                await session.exec(
                    select(Task.id, User.login)
                    .join(User, col(User.id) == col(Task.assignee_user_id))
                    .where(col(Task.id).in_([uuid.UUID(i) for i in ids]))
                )
            ).all()
            return {str(task_id): login for task_id, login in rows}
    finally:
        await engine.dispose()


async def test_rotation_reassigns_tasks_cases_and_positions(client: httpx.AsyncClient, db_url: str) -> None:
    before = (await client.get(f"/api/v1/rotations/report/{CHIEF}", headers=auth(CHIEF))).json()
    created = await client.post(
        "/api/v1/rotations",
        json={"outgoing_user": CHIEF, "incoming_user": SUCCESSOR, "theatre": "KOS", "cut_off": "2008-12-09"},
        headers=auth(CHIEF),
    )
    assert created.status_code == 201, created.text
    rotation = created.json()
    assert rotation["kind"] == "rotation"
    hid = rotation["id"]
    assert (await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(CHIEF))).status_code == 200
    inventory = await lines(client, hid, CHIEF)
    kinds = {line["kind"] for line in inventory}
    assert "position" in kinds
    assert not any(line["consent_status"] == "pending" for line in inventory)
    # Only the two people and the agency's coordinators take part.
    assert (await client.get(f"/api/v1/handovers/{hid}", headers=auth("eulex.chief"))).status_code == 404

    guard = await client.post(f"/api/v1/handovers/{hid}/submit", headers=auth(CHIEF))
    assert guard.status_code == 409
    await decide(
        client, hid, SUCCESSOR, {"kind": "checklist"}, disposition="accepted", completion_evidence="Briefed"
    )
    result = await decide(client, hid, SUCCESSOR, {"disposition": "open"}, disposition="accepted")
    assert result["decided"] > 0
    for step, login, body in (
        ("submit", CHIEF, None),
        ("review", SUCCESSOR, {"approve": True}),
        ("sign-off", CHIEF, None),
        ("sign-off", SUCCESSOR, None),
        ("complete", SUCCESSOR, None),
    ):
        response = await client.post(f"/api/v1/handovers/{hid}/{step}", json=body, headers=auth(login))
        assert response.status_code == 200, (step, response.text)

    after_chief = (await client.get(f"/api/v1/rotations/report/{CHIEF}", headers=auth(CHIEF))).json()
    assert not [t for t in after_chief["open_tasks"] if not t["via_position"]]
    assert not after_chief["cases"]
    successor = (await client.get(f"/api/v1/rotations/report/{SUCCESSOR}", headers=auth(SUCCESSOR))).json()
    assert any(
        t["position"].startswith("Head of Kosovo Organised Crime Bureau") and t["start_date"] == "2008-12-10"
        for t in successor["tours"]
    )
    moved = {t["id"] for t in before["open_tasks"] if not t["via_position"]}
    assert moved
    assignees = await task_assignees(db_url, moved)
    assert set(assignees.values()) == {SUCCESSOR}
    members = await case_members(db_url)
    for case in before["cases"]:
        assert (case["id"], SUCCESSOR) in members
        assert (case["id"], CHIEF) not in members
    report = (await client.get(f"/api/v1/handovers/{hid}/report", headers=auth(CHIEF))).json()
    assert report["dropped_records"] == 0
    assert report["completeness"] == 1.0
