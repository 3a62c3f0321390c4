"""A handover absorbs live work: records that enter its scope at any stage before
completion get lines, and what that makes stale is visibly reopened."""

import uuid
from typing import Any

import httpx
from sqlmodel import col, select

from ocpo_coord.models import Notification
from tests.conftest import auth
from tests.fixtures.handover import IN, OUT, lines, open_handover, settle, step
from tests.fixtures.queries import audit_rows, rows


async def new_case(client: httpx.AsyncClient, title: str) -> str:
    response = await client.post(
        "/api/v1/cases",
        json={"title": title, "theatre": "KOS", "crime_types": ["smuggling"]},
        headers=auth(OUT),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_evidence(client: httpx.AsyncClient, case_id: str, title: str) -> str:
    response = await client.post(
        "/api/v1/evidence",
        json={"case_id": case_id, "evidence_kind": "physical", "title": title},
        headers=auth(OUT),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_note(client: httpx.AsyncClient, case_id: str, body: str) -> str:
    response = await client.post("/api/v1/notes", json={"case_id": case_id, "body": body}, headers=auth(OUT))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_task(client: httpx.AsyncClient, case_id: str | None, title: str) -> str:
    body: dict[str, Any] = {"title": title, "activity_area": "information_gathering", "theatre": "KOS"}
    if case_id:
        body["case_id"] = case_id
    response = await client.post("/api/v1/tasks", json=body, headers=auth(OUT))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def refused_for_unlined(client: httpx.AsyncClient, hid: str, what: str, login: str, count: int) -> None:
    response = await step(client, hid, what, login)
    assert response.status_code == 409, response.text
    message = response.json()["detail"]["message"]
    assert f"{count} records in scope have no line" in message, message
    assert "build the inventory again" in message


async def rebuild(client: httpx.AsyncClient, hid: str) -> dict[str, Any]:
    built = await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    assert built.status_code == 200, built.text
    return dict(built.json())


async def report(client: httpx.AsyncClient, hid: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/handovers/{hid}/report", headers=auth(IN))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def line_subjects(client: httpx.AsyncClient, hid: str) -> set[str]:
    return {str(line["subject_id"]) for line in await lines(client, hid, OUT) if line["subject_id"]}


async def test_records_created_at_every_stage_get_lines_and_reopen_what_they_make_stale(
    client: httpx.AsyncClient, db_url: str
) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    created: list[str] = [await new_case(client, "Created while the handover is a draft")]
    await rebuild(client, hid)
    assert set(created) <= await line_subjects(client, hid)

    # in_progress: a case and its evidence arrive after the inventory; submit refuses.
    await settle(client, hid)
    case = await new_case(client, "Created while the inventory is decided")
    created += [case, await new_evidence(client, case, "Seized ledger")]
    await refused_for_unlined(client, hid, "submit", OUT, 2)
    assert (await report(client, hid))["completeness"] < 1.0
    assert (await rebuild(client, hid))["status"] == "in_progress"
    await settle(client, hid)
    assert (await step(client, hid, "submit", OUT)).status_code == 200

    # submitted: a note; approving refuses; rebuilding reopens.
    created.append(await new_note(client, case, "Written after submission"))
    await refused_for_unlined(client, hid, "review", IN, 1)
    reopened = await rebuild(client, hid)
    assert reopened["status"] == "in_progress"
    assert reopened["submitted_at"] is None
    await settle(client, hid)
    assert (await step(client, hid, "submit", OUT)).status_code == 200
    assert (await step(client, hid, "review", IN)).status_code == 200

    # reviewed: a task on the case; the outgoing sign-off refuses.
    created.append(await new_task(client, case, "Task opened after review"))
    await refused_for_unlined(client, hid, "sign-off", OUT, 1)
    reopened = await rebuild(client, hid)
    assert (reopened["status"], reopened["reviewed_by"]) == ("in_progress", None)
    await settle(client, hid)
    for what, login in (("submit", OUT), ("review", IN), ("sign-off", OUT)):
        assert (await step(client, hid, what, login)).status_code == 200, what

    # signed by one side: a task of the agency's own; the other sign-off refuses, and
    # rebuilding clears the sign-off already given.
    created.append(await new_task(client, None, "Own task opened after the first sign-off"))
    await refused_for_unlined(client, hid, "sign-off", IN, 1)
    reopened = await rebuild(client, hid)
    assert (reopened["status"], reopened["outgoing_signed_by"]) == ("in_progress", None)
    await settle(client, hid)
    for what, login in (("submit", OUT), ("review", IN), ("sign-off", OUT), ("sign-off", IN)):
        assert (await step(client, hid, what, login)).status_code == 200, what

    # signed by both: a case; complete refuses, and the way out is a rebuild, not cancel.
    late = await new_case(client, "Created after both sign-offs")
    created += [late, await new_evidence(client, late, "Phone seized at the border")]
    await refused_for_unlined(client, hid, "complete", IN, 2)
    figures = await report(client, hid)
    assert figures["dropped_records"] == 2
    assert figures["completeness"] < 1.0
    reopened = await rebuild(client, hid)
    assert reopened["status"] == "in_progress"
    assert reopened["outgoing_signed_by"] is None
    assert reopened["incoming_signed_by"] is None
    await settle(client, hid)
    for what, login in (("submit", OUT), ("review", IN), ("sign-off", OUT), ("sign-off", IN)):
        assert (await step(client, hid, what, login)).status_code == 200, what
    done = await step(client, hid, "complete", IN)
    assert done.status_code == 200, done.text

    assert set(created) <= await line_subjects(client, hid)
    final = await report(client, hid)
    assert (final["dropped_records"], final["completeness"]) == (0, 1.0)
    assert final["decided_lines"] == final["total_lines"]

    # Each reopening is a state change on record, and both sides are told.
    audit = [e for e in await audit_rows(db_url) if e.record_id == uuid.UUID(hid)]
    reopenings = [e for e in audit if e.action == "handover.reopen"]
    assert len(reopenings) == 4
    assert all(e.before and e.after and e.before["status"] != e.after["status"] for e in reopenings)
    told = await rows(
        db_url, select(Notification.title).where(col(Notification.title).contains("was reopened"))
    )
    assert told


async def test_the_readme_walkthrough_completes_after_the_tour_adds_records(
    client: httpx.AsyncClient,
) -> None:
    """The demo's handover in progress, a case and evidence logged meanwhile (the short
    tour), then the walkthrough: the records are refused at submit, not at complete."""
    listed = (await client.get("/api/v1/handovers", headers=auth(IN))).json()
    hid = next(h["id"] for h in listed if h["status"] == "in_progress")
    case = await new_case(client, "Cigarettes through Merdare")
    await new_evidence(client, case, "Ledger scan")
    await settle(client, hid)
    await refused_for_unlined(client, hid, "submit", OUT, 2)
    await rebuild(client, hid)
    await settle(client, hid)
    for what, login in (
        ("submit", OUT),
        ("review", IN),
        ("sign-off", OUT),
        ("sign-off", IN),
        ("complete", IN),
    ):
        response = await step(client, hid, what, login)
        assert response.status_code == 200, (what, response.text)
    final = await report(client, hid)
    assert (final["dropped_records"], final["completeness"]) == (0, 1.0)


async def test_a_record_re_marked_nohost_is_withheld_from_a_host_nation_receiver_at_the_next_build(
    client: httpx.AsyncClient,
) -> None:
    opened = await client.post(
        "/api/v1/handovers",
        json={
            "title": "Border files to Kosovo Police",
            "incoming_agency": "KP",
            "theatre": "KOS",
            "cut_off": "2030-12-31",
        },
        headers=auth(OUT),
    )
    assert opened.status_code == 201, opened.text
    hid = opened.json()["id"]
    case = await new_case(client, "Fuel smuggling at Jarinje")
    await rebuild(client, hid)
    shown = len(await lines(client, hid, "kp.investigator"))
    remarked = await client.patch(
        f"/api/v1/cases/{case}",
        json={"markings": {"classification": "RESTRICTED", "tlp": "AMBER", "nohost": True}},
        headers=auth(OUT),
    )
    assert remarked.status_code == 200, remarked.text
    await rebuild(client, hid)
    # The receiver no longer sees the line at all (stubs included).
    assert len(await lines(client, hid, "kp.investigator")) == shown - 1
    giver = next(ln for ln in await lines(client, hid, OUT) if ln["subject_id"] == case)
    assert giver["disposition"] == "withheld"
    assert "NOHOST" in giver["reason"]
