"""Creating and updating records through both APIs: rules, errors, one transaction."""

import re

import httpx

from ocpo_coord.audit.verify import verify_database
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.models import AuditEvent, Record
from ocpo_coord.models.enums import SelectorKind
from tests.conftest import auth, gql
from tests.fixtures.audit_log import integrate
from tests.fixtures.queries import audit_rows, count_rows
from tests.fixtures.records import NEW_CASE


async def test_create_case_over_rest_then_read_it_back(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/cases", json=NEW_CASE, headers=auth("unmik.analyst"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert re.fullmatch(r"UNMIK-\d{4}-[0-9A-HJKMNP-TV-Z]{6}", body["reference"])
    assert body["lead_agency"] == "UNMIK"
    assert body["markings"]["originator_agency"] == body["markings"]["owner_agency"] == "UNMIK"
    assert body["crime_types"] == ["corruption", "smuggling"]
    assert "unmik.analyst" in body["members"]
    fetched = await client.get(f"/api/v1/cases/{body['id']}", headers=auth("eulex.prosecutor"))
    assert fetched.status_code == 200
    assert fetched.json()["title"] == NEW_CASE["title"]
    # released to EULEX only: KFOR does not see it
    assert (await client.get(f"/api/v1/cases/{body['id']}", headers=auth("kfor.j2"))).status_code == 404


async def test_invalid_input_names_the_field_and_writes_nothing(
    client: httpx.AsyncClient, db_url: str
) -> None:
    records, audits = await count_rows(db_url, Record), await count_rows(db_url, AuditEvent)
    cases = [
        ({**NEW_CASE, "title": ""}, "title"),
        ({**NEW_CASE, "crime_types": ["jaywalking"]}, "crime_types.0"),
        ({**NEW_CASE, "theatre": "MARS"}, "theatre"),
        ({**NEW_CASE, "participating_agencies": ["NOSUCH"]}, "participating_agencies"),
        ({**NEW_CASE, "markings": {"classification": "TOP SECRET"}}, "markings.classification"),
        ({**NEW_CASE, "markings": {"classification": "SECRET"}}, "markings.classification"),
        ({**NEW_CASE, "markings": {"tlp": "RED", "releasable_to": ["EULEX"]}}, "markings.releasable_to"),
        ({**NEW_CASE, "members": ["ghost.user"]}, "members"),
        ({**NEW_CASE, "reference": "KFOR-2008-9999"}, "reference"),
        ({**NEW_CASE, "surprise": 1}, "surprise"),
    ]
    for payload, field in cases:
        response = await client.post("/api/v1/cases", json=payload, headers=auth("unmik.analyst"))
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"]["field"] == field, response.text
    assert await count_rows(db_url, Record) == records
    assert await count_rows(db_url, AuditEvent) == audits


async def test_only_the_owner_agency_may_edit(client: httpx.AsyncClient) -> None:
    listing = await client.get(
        "/api/v1/cases", params={"text": "EULEX-2008-0019"}, headers=auth("unmik.analyst")
    )
    case_id = listing.json()["items"][0]["id"]
    refused = await client.patch(
        f"/api/v1/cases/{case_id}", json={"title": "taken over"}, headers=auth("unmik.analyst")
    )
    assert refused.status_code == 403
    assert "owner agency" in refused.json()["detail"]["message"]
    allowed = await client.patch(
        f"/api/v1/cases/{case_id}", json={"priority": "critical"}, headers=auth("eulex.prosecutor")
    )
    assert allowed.status_code == 200
    assert allowed.json()["priority"] == "critical"


async def test_stale_version_is_a_conflict_and_changes_nothing(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/cases", json=NEW_CASE, headers=auth("unmik.analyst"))).json()
    first = await client.patch(
        f"/api/v1/cases/{created['id']}",
        json={"title": "First edit", "expected_version": 1},
        headers=auth("unmik.analyst"),
    )
    assert first.status_code == 200
    assert first.json()["version"] == 2
    stale = await client.patch(
        f"/api/v1/cases/{created['id']}",
        json={"title": "Stale edit", "expected_version": 1},
        headers=auth("unmik.analyst"),
    )
    assert stale.status_code == 409
    assert stale.json()["detail"]["field"] == "expected_version"
    now = (await client.get(f"/api/v1/cases/{created['id']}", headers=auth("unmik.analyst"))).json()
    assert now["title"] == "First edit"
    assert now["version"] == 2


async def test_restricting_a_case_hides_it_and_its_notes_from_non_members(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/cases", json=NEW_CASE, headers=auth("unmik.analyst"))).json()
    note = await client.post(
        "/api/v1/notes",
        json={
            "case_id": created["id"],
            "body": "Informant met at the Merdare café.",
            "markings": {"releasable_to": ["EULEX"]},
        },
        headers=auth("unmik.analyst"),
    )
    assert note.status_code == 201, note.text
    note_id = note.json()["id"]
    assert (await client.get(f"/api/v1/notes/{note_id}", headers=auth("eulex.prosecutor"))).status_code == 200
    restricted = await client.patch(
        f"/api/v1/cases/{created['id']}", json={"restricted": True}, headers=auth("unmik.analyst")
    )
    assert restricted.status_code == 200
    assert restricted.json()["restricted"] is True
    for path in (f"/api/v1/cases/{created['id']}", f"/api/v1/notes/{note_id}"):
        assert (await client.get(path, headers=auth("eulex.prosecutor"))).status_code == 404
        assert (await client.get(path, headers=auth("unmik.chief"))).status_code == 404
        assert (await client.get(path, headers=auth("unmik.analyst"))).status_code == 200


async def test_children_of_an_unreadable_case_stay_hidden(client: httpx.AsyncClient) -> None:
    # EULEX adds a note released to KP on a case KP cannot read: KP must not get it,
    # or the note's case_id would reveal that the case exists.
    listing = await client.get(
        "/api/v1/cases", params={"text": "UNMIK-2007-0012"}, headers=auth("eulex.prosecutor")
    )
    case_id = listing.json()["items"][0]["id"]
    created = await client.post(
        "/api/v1/notes",
        json={
            "case_id": case_id,
            "body": "Lab result received.",
            "markings": {"tlp": "AMBER", "releasable_to": ["KP", "UNMIK"]},
        },
        headers=auth("eulex.prosecutor"),
    )
    assert created.status_code == 201, created.text
    assert (
        await client.get(f"/api/v1/notes/{created.json()['id']}", headers=auth("kp.investigator"))
    ).status_code == 404


async def test_graphql_mutations_create_update_and_report_errors_as_data(client: httpx.AsyncClient) -> None:
    create = """
      mutation($input: CreateCaseInput!) {
        createCase(input: $input) {
          __typename
          ... on CasePayload { case { id reference version markings { tlp releasableTo } } }
          ... on UserError { message field }
        }
      }"""
    variables = {
        "input": {
            "title": "Arms cache near Likoshan",
            "theatre": "KOS",
            "crimeTypes": ["ARMS_TRAFFICKING"],
            "markings": {"classification": "CONFIDENTIAL", "tlp": "AMBER_STRICT", "releasableTo": ["UNMIK"]},
        }
    }
    body = await gql(client, "kfor.j2", create, variables)
    payload = body["data"]["createCase"]
    assert payload["__typename"] == "CasePayload", body
    case = payload["case"]
    assert case["markings"] == {"tlp": "AMBER_STRICT", "releasableTo": ["UNMIK"]}

    update = """
      mutation($input: UpdateCaseInput!) {
        updateCase(input: $input) {
          __typename
          ... on CasePayload { case { title summary version } }
          ... on UserError { message field }
        }
      }"""
    changed = await gql(
        client,
        "kfor.j2",
        update,
        {"input": {"id": case["id"], "summary": "Three crates of AK-pattern rifles.", "expectedVersion": 1}},
    )
    result = changed["data"]["updateCase"]
    # Only the fields sent change: the title stays.
    assert result == {
        "__typename": "CasePayload",
        "case": {
            "title": "Arms cache near Likoshan",
            "summary": "Three crates of AK-pattern rifles.",
            "version": 2,
        },
    }

    stale = await gql(
        client, "kfor.j2", update, {"input": {"id": case["id"], "title": "x", "expectedVersion": 1}}
    )
    assert stale["data"]["updateCase"]["__typename"] == "ConflictError"
    assert stale["data"]["updateCase"]["field"] == "expectedVersion"

    bad = await gql(client, "kfor.j2", create, {"input": {**variables["input"], "theatre": "NOWHERE"}})
    assert bad["data"]["createCase"] == {
        "__typename": "InvalidInputError",
        "message": "unknown theatre code: NOWHERE",
        "field": "theatre",
    }

    foreign = await gql(client, "unmik.analyst", update, {"input": {"id": case["id"], "title": "mine now"}})
    assert foreign["data"]["updateCase"]["__typename"] == "ForbiddenError"


async def test_a_failed_mutation_does_not_undo_an_earlier_one_in_the_same_request(
    client: httpx.AsyncClient,
) -> None:
    query = """
      mutation {
        ok: createCase(input: {title: "Fuel tankers at Jarinje", theatre: "KOS"}) { __typename }
        bad: createCase(input: {title: "x", theatre: "NOWHERE"}) { __typename }
      }"""
    body = await gql(client, "eulex.prosecutor", query)
    assert body["data"] == {"ok": {"__typename": "CasePayload"}, "bad": {"__typename": "InvalidInputError"}}
    found = await client.get(
        "/api/v1/cases", params={"text": "Fuel tankers at Jarinje"}, headers=auth("eulex.prosecutor")
    )
    assert found.json()["total_count"] == 1


async def test_every_record_kind_can_be_created_and_updated(client: httpx.AsyncClient) -> None:
    h = auth("unmik.analyst")
    case = (await client.post("/api/v1/cases", json=NEW_CASE, headers=h)).json()
    intel = await client.post(
        "/api/v1/intel-items",
        json={
            "title": "Truck seen loading at night",
            "content": "Source reports a white Iveco loading cartons after midnight.",
            "information_date": "2008-06-02",
            "source_reliability": "B",
            "information_credibility": "2",
            "theatre": "KOS",
            "case_ids": [case["id"]],
        },
        headers=h,
    )
    assert intel.status_code == 201, intel.text
    assert intel.json()["grading"] == "B2"
    assert intel.json()["case_ids"] == [case["id"]]
    evidence = await client.post(
        "/api/v1/evidence",
        json={
            "case_id": case["id"],
            "evidence_kind": "file",
            "title": "Photo of the truck",
            "sha256": "a" * 64,
            "file_name": "truck.jpg",
            "size_bytes": 1024,
        },
        headers=h,
    )
    assert evidence.status_code == 201, evidence.text
    assert evidence.json()["custody"][0]["holder_agency"] == "UNMIK"
    backdated = await client.patch(
        f"/api/v1/evidence/{evidence.json()['id']}",
        json={
            "custody_transfer": {
                "holder_agency": "EULEX",
                "received_at": "2008-12-10T09:00:00Z",
                "location": "EULEX evidence room, Pristina",
            }
        },
        headers=h,
    )
    assert backdated.status_code == 422
    assert backdated.json()["detail"]["field"] == "custody_transfer.received_at"
    moved = await client.patch(
        f"/api/v1/evidence/{evidence.json()['id']}",
        json={
            "custody_transfer": {
                "holder_agency": "EULEX",
                "received_at": "2099-12-10T09:00:00Z",
                "location": "EULEX evidence room, Pristina",
            }
        },
        headers=h,
    )
    assert moved.status_code == 200, moved.text
    assert [c["holder_agency"] for c in moved.json()["custody"]] == ["UNMIK", "EULEX"]
    no_digest = await client.post(
        "/api/v1/evidence", json={"case_id": case["id"], "evidence_kind": "file", "title": "x"}, headers=h
    )
    assert no_digest.status_code == 422
    assert no_digest.json()["detail"]["field"] == "sha256"
    entity = await client.post(
        "/api/v1/entities",
        json={
            "entity_kind": "person",
            "label": "Driver of the Iveco",
            "selectors": [
                {"kind": "phone", "value": "+377 44 555 123"},
                {"kind": "name", "value": "HOXHA Ilir"},
            ],
            "links": [{"record_id": case["id"], "role": "subject"}],
        },
        headers=h,
    )
    assert entity.status_code == 201, entity.text
    assert {s["normalized"] for s in entity.json()["selectors"]} == {
        "+38344555123",
        normalize(SelectorKind.NAME, "Ilir Hoxha"),
    }
    found = await client.get(
        "/api/v1/entities", params={"selector_kind": "phone", "selector": "044 555 123"}, headers=h
    )
    assert [e["id"] for e in found.json()["items"]] == [entity.json()["id"]]
    task = await client.post(
        "/api/v1/tasks",
        json={
            "title": "Identify the truck owner",
            "activity_area": "information_gathering",
            "theatre": "KOS",
            "case_id": case["id"],
            "due_date": "2008-07-01",
            "status": "in_progress",
        },
        headers=h,
    )
    assert task.status_code == 201, task.text
    assert task.json()["overdue"] is True
    assert task.json()["crime_axis"] == "consequences"
    follow = await client.post(
        "/api/v1/tasks",
        json={
            "title": "Interview the owner",
            "activity_area": "operations_against_oc",
            "theatre": "KOS",
            "depends_on": [task.json()["id"]],
        },
        headers=h,
    )
    assert follow.status_code == 201
    cycle = await client.patch(
        f"/api/v1/tasks/{task.json()['id']}", json={"depends_on": [follow.json()["id"]]}, headers=h
    )
    assert cycle.status_code == 422
    assert cycle.json()["detail"]["field"] == "depends_on"
    done = await client.patch(f"/api/v1/tasks/{task.json()['id']}", json={"status": "done"}, headers=h)
    assert done.json()["overdue"] is False


async def test_writes_are_audited_and_integrated_into_the_log(client: httpx.AsyncClient, db_url: str) -> None:
    created = (await client.post("/api/v1/cases", json=NEW_CASE, headers=auth("unmik.analyst"))).json()
    rows = await audit_rows(db_url)
    last = rows[-1]
    assert last.action == "case.create"
    assert str(last.record_id) == created["id"]
    assert last.actor_name.endswith("(unmik.analyst)")
    assert await integrate(db_url) == len(rows)
    engine = make_sync_engine(db_url)
    try:
        report = verify_database(engine)
    finally:
        engine.dispose()
    assert report.ok, report.problem
    assert report.checked == len(rows)
