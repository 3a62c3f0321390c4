"""What a filter, an audit entry, a handover stub or a tour report tells a reader who may
not read a record: never more than a record that does not exist would.

Each test writes its own records through the API (a restricted case and what hangs off
it, a tear-line, an export), then asks as the readers who may not read them.
"""

import json
import re
import uuid
from typing import Any

import httpx
from sqlmodel import Session, select

from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.models import Record
from tests.conftest import auth, gql

NON_MEMBERS = [
    "kp.investigator",
    "eulex.prosecutor",
    "eulex.chief",
    "kfor.j2",
    "unmik.analyst",
    "omik.adviser",
]
CLEAR = {"classification": "UNCLASSIFIED", "tlp": "CLEAR"}
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _post(client: httpx.AsyncClient, login: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{path}", json=body, headers=auth(login))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def restricted_case(client: httpx.AsyncClient) -> str:
    """A restricted UNMIK case whose only member is its author."""
    case = await _post(
        client,
        "unmik.chief",
        "cases",
        {
            "title": f"Informant file {uuid.uuid4().hex[:6]}",
            "theatre": "KOS",
            "restricted": True,
            "members": ["unmik.chief"],
            "markings": {
                "classification": "RESTRICTED",
                "tlp": "AMBER",
                "releasable_to": ["EULEX", "KFOR", "KP"],
            },
        },
    )
    return str(case["id"])


async def clear_intel_on(client: httpx.AsyncClient, case_id: str) -> str:
    """Intelligence everyone may read, linked to the case."""
    item = await _post(
        client,
        "unmik.chief",
        "intel-items",
        {
            "title": "Market talk in Prizren",
            "content": "Open-source summary.",
            "information_date": "2008-05-01",
            "source_reliability": "C",
            "information_credibility": "3",
            "theatre": "KOS",
            "case_ids": [case_id],
            "markings": CLEAR,
        },
    )
    return str(item["id"])


async def test_a_filter_naming_an_unreadable_case_selects_what_a_missing_one_does(
    client: httpx.AsyncClient,
) -> None:
    case_id = await restricted_case(client)
    item_id = await clear_intel_on(client, case_id)
    missing = str(uuid.uuid4())
    member = (
        await client.get("/api/v1/intel-items", params={"case_id": case_id}, headers=auth("unmik.chief"))
    ).json()
    assert [i["id"] for i in member["items"]] == [item_id], "the member finds the linked item"
    query = "query($c: UUID) { intelItems(filter: {caseId: $c}, first: 10) { totalCount nodes { id } } }"
    for login in NON_MEMBERS:
        # The item itself is readable to everyone, but not through the case it hangs off.
        assert (await client.get(f"/api/v1/intel-items/{item_id}", headers=auth(login))).status_code == 200
        for path in ("intel-items", "tasks"):
            answers = [
                (await client.get(f"/api/v1/{path}", params={"case_id": c}, headers=auth(login))).json()
                for c in (case_id, missing)
            ]
            assert answers[0] == answers[1], (login, path)
            assert answers[0]["total_count"] == 0
        by_graphql = [
            (await gql(client, login, query, {"c": c}))["data"]["intelItems"] for c in (case_id, missing)
        ]
        assert by_graphql[0] == by_graphql[1] == {"totalCount": 0, "nodes": []}, login


async def test_an_auditor_filtering_by_an_unreadable_record_finds_nothing(client: httpx.AsyncClient) -> None:
    case_id = await restricted_case(client)
    await clear_intel_on(client, case_id)
    own = (
        await client.get("/api/v1/audit-events", params={"record_id": case_id}, headers=auth("unmik.chief"))
    ).json()
    assert own["items"], "the member's auditor finds the case's entries"
    for record_id in (case_id, str(uuid.uuid4())):
        page = (
            await client.get(
                "/api/v1/audit-events", params={"record_id": record_id}, headers=auth("eulex.chief")
            )
        ).json()
        assert page == {"items": [], "next_cursor": None}


def _entries(page: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [e for e in page["items"] if e["action"] == action]


async def test_an_audit_entry_never_names_what_its_reader_may_not_read(client: httpx.AsyncClient) -> None:
    case_id = await restricted_case(client)
    item_id = await clear_intel_on(client, case_id)
    # A task on the restricted case and one everyone may read, exported together.
    hidden_task = await _post(
        client,
        "unmik.chief",
        "tasks",
        {
            "title": "Meet the source",
            "activity_area": "information_gathering",
            "theatre": "KOS",
            "case_id": case_id,
        },
    )
    open_task = await _post(
        client,
        "unmik.chief",
        "tasks",
        {
            "title": "Publish the border rota",
            "activity_area": "border_control",
            "theatre": "KOS",
            "markings": CLEAR,
        },
    )
    export = await client.get("/api/v1/tasks.csv", params={"theatre": "KOS"}, headers=auth("unmik.chief"))
    assert export.status_code == 200
    assert "Meet the source" in export.text
    # A tear-line of an item only UNMIK may read, published for everyone.
    original = await _post(
        client,
        "unmik.chief",
        "intel-items",
        {
            "title": "Handler report 17",
            "content": "Source Blue names the courier.",
            "information_date": "2008-05-02",
            "source_reliability": "B",
            "information_credibility": "2",
            "theatre": "KOS",
            "markings": {"classification": "CONFIDENTIAL", "tlp": "AMBER"},
        },
    )
    tear_line = await _post(
        client,
        "unmik.chief",
        f"intel-items/{original['id']}/tear-lines",
        {"title": "Courier active", "content": "A courier is active on the Dragash road.", "markings": CLEAR},
    )
    hidden = {case_id, str(hidden_task["id"]), str(original["id"])}
    for login in ("eulex.chief", "unmik.chief"):
        page = (await client.get("/api/v1/audit-events", params={"limit": 100}, headers=auth(login))).json()
        assert _entries(page, "intel_item.create")
        assert _entries(page, "task.export")
        assert _entries(page, "intel_item.tear_line")
        blob = json.dumps(page)
        for shown in (item_id, str(open_task["id"]), str(tear_line["id"])):
            assert shown in blob, (login, shown)
        for record_id in hidden:
            assert (record_id in blob) is (login == "unmik.chief"), (login, record_id)
        exports = _entries(page, "task.export")
        assert str(open_task["id"]) in exports[0]["after"]["ids"]
        assert "count" not in exports[0]["after"]
        assert "tasks" not in exports[0]["detail"].split()
    graphql = await gql(
        client,
        "eulex.chief",
        "{ auditEvents(first: 100) { nodes { action recordId recordIds before after detail } } }",
    )
    blob = json.dumps(graphql)
    assert "intel_item.create" in blob
    assert not any(record_id in blob for record_id in hidden)


async def test_a_handover_stub_is_a_handle_for_access_and_names_nothing(client: httpx.AsyncClient) -> None:
    hid = (await client.get("/api/v1/handovers", headers=auth("unmik.chief"))).json()[0]["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth("unmik.chief"))
    seen = (
        await client.get(f"/api/v1/handovers/{hid}/lines?limit=1000", headers=auth("eulex.prosecutor"))
    ).json()
    stubs = [line for line in seen if not line["readable"]]
    assert stubs, "the demo handover holds records EULEX's investigator may not read"
    stub = stubs[0]
    asked = await client.post(
        "/api/v1/access-requests",
        json={"handover_line_id": stub["id"], "reason": "We take over this file next month."},
        headers=auth("eulex.prosecutor"),
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["record_id"] is None, "asking through a stub does not reveal the record's id"
    mine = (await client.get("/api/v1/access-requests", headers=auth("eulex.prosecutor"))).json()
    assert all(r["record_id"] is None for r in mine if r["id"] == asked.json()["id"])
    incoming = (
        await client.get(
            "/api/v1/access-requests", params={"direction": "incoming"}, headers=auth("unmik.chief")
        )
    ).json()
    owner_view = [r for r in incoming if r["id"] == asked.json()["id"]]
    assert owner_view
    assert owner_view[0]["record_id"], "the owner sees what is asked for"
    # The handle works for its reader only: an outsider's use of it is a missing line.
    outsider = await client.post(
        "/api/v1/access-requests",
        json={"handover_line_id": stub["id"], "reason": "Curious about this one."},
        headers=auth("kfor.j2"),
    )
    assert outsider.status_code == 404
    both = await client.post(
        "/api/v1/access-requests",
        json={
            "handover_line_id": stub["id"],
            "record_id": str(uuid.uuid4()),
            "reason": "Two at once, wrongly.",
        },
        headers=auth("eulex.prosecutor"),
    )
    assert both.status_code == 422


async def test_a_hit_is_the_handle_to_ask_for_the_other_record(client: httpx.AsyncClient) -> None:
    hits = (await client.get("/api/v1/deconfliction-hits", headers=auth("kfor.j2"))).json()
    hidden = [h for h in hits if h["other_record_id"] is None]
    assert hidden, "KFOR's demo hits point at UNMIK work it may not read"
    asked = await client.post(
        "/api/v1/access-requests",
        json={"hit_id": hidden[0]["id"], "reason": "Our raid collides with your surveillance."},
        headers=auth("kfor.j2"),
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["record_id"] is None
    foreign = await client.post(
        "/api/v1/access-requests",
        json={"hit_id": hidden[0]["id"], "reason": "Not my hit at all."},
        headers=auth("kp.investigator"),
    )
    assert foreign.status_code == 404


async def test_work_is_never_assigned_to_someone_who_may_not_read_it(client: httpx.AsyncClient) -> None:
    case_id = await restricted_case(client)
    body = {"title": "Debrief the source", "activity_area": "information_gathering", "theatre": "KOS"}
    refused = await client.post(
        "/api/v1/tasks",
        json={**body, "case_id": case_id, "assignee_login": "unmik.analyst"},
        headers=auth("unmik.chief"),
    )
    assert refused.status_code == 422
    assert "assignee_login" in refused.text
    # Nothing was written: the member's list of the case's tasks stays empty.
    tasks = (
        await client.get("/api/v1/tasks", params={"case_id": case_id}, headers=auth("unmik.chief"))
    ).json()
    assert tasks["total_count"] == 0
    task = await _post(client, "unmik.chief", "tasks", {**body, "assignee_login": "unmik.analyst"})
    narrowed = await client.patch(
        f"/api/v1/tasks/{task['id']}",
        json={"markings": {"classification": "SECRET", "tlp": "AMBER"}, "expected_version": task["version"]},
        headers=auth("unmik.chief"),
    )
    assert narrowed.status_code == 422, "narrowing past the assignee's clearance is refused"
    report = (
        await client.get("/api/v1/rotations/report/unmik.analyst", headers=auth("unmik.analyst"))
    ).json()
    assert "unreadable_items" not in report
    assert task["id"] in {t["id"] for t in report["open_tasks"]}


async def test_every_record_an_audit_page_names_is_one_its_reader_may_read(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """The class, not the examples: after the demo and the writes above, every record id
    anywhere in any entry an auditor is shown (ids, snapshots, details) is one they may
    read, by the API's own answer to a lookup of that id."""
    case_id = await restricted_case(client)
    await clear_intel_on(client, case_id)
    await client.get("/api/v1/tasks.csv", params={"theatre": "KOS"}, headers=auth("unmik.chief"))
    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as session:
            record_ids = {str(i) for i in session.exec(select(Record.id)).all()}
    finally:
        engine.dispose()
    for login in ("eulex.chief", "unmik.chief"):
        shown: set[str] = set()
        after = None
        while True:
            params: dict[str, Any] = {"limit": 100} | ({"after": after} if after else {})
            page = (await client.get("/api/v1/audit-events", params=params, headers=auth(login))).json()
            shown |= set(UUID_TEXT.findall(json.dumps(page))) & record_ids
            after = page["next_cursor"]
            if after is None:
                break
        assert shown, login
        ids = sorted(shown)
        unreadable = []
        for start in range(0, len(ids), 20):  # within the service's alias limit
            chunk = ids[start : start + 20]
            lookups = " ".join(f'n{i}: node(id: "{record_id}") {{ id }}' for i, record_id in enumerate(chunk))
            answer = await gql(client, login, "{ " + lookups + " }")
            assert answer.get("data") is not None, answer
            unreadable += [record_id for i, record_id in enumerate(chunk) if answer["data"][f"n{i}"] is None]
        assert not unreadable, (login, unreadable)
