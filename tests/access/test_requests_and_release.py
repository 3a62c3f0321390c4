"""Access requests, tear-lines and the rules on widening a release."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import Record
from ocpo_coord.models.enums import Classification, RecordKind, Role
from ocpo_coord.visibility.policy import may_widen
from tests.conftest import auth, gql
from tests.fixtures.queries import audit_rows

MISSING = "00000000-0000-4000-8000-00000000abcd"


async def _case_id(client: httpx.AsyncClient, reference: str, login: str = "unmik.chief") -> str:
    body = (await client.get("/api/v1/cases", params={"text": reference}, headers=auth(login))).json()
    return str(body["items"][0]["id"])


async def _intel_id(client: httpx.AsyncClient, title_part: str, login: str) -> str:
    body = (
        await client.get(
            "/api/v1/intel-items", params={"text": title_part, "limit": 100}, headers=auth(login)
        )
    ).json()
    return str(body["items"][0]["id"])


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("id", "created_at", "record_id")}


async def test_asking_reveals_nothing_about_existence(client: httpx.AsyncClient) -> None:
    hidden = await _case_id(client, "UNMIK-2007-0012")
    reason = "Our patrol stopped a courier linked to this network."
    existing = await client.post(
        "/api/v1/access-requests", json={"record_id": hidden, "reason": reason}, headers=auth("kfor.j2")
    )
    missing = await client.post(
        "/api/v1/access-requests", json={"record_id": MISSING, "reason": reason}, headers=auth("kfor.j2")
    )
    assert existing.status_code == missing.status_code == 202
    assert _shape(existing.json()) == _shape(missing.json())
    assert existing.json()["status"] == "pending"


async def test_owner_approves_with_an_expiring_grant(client: httpx.AsyncClient, db_url: str) -> None:
    case_id = await _case_id(client, "UNMIK-2007-0012")
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=auth("kfor.j2"))).status_code == 404
    asked = await client.post(
        "/api/v1/access-requests",
        json={"record_id": case_id, "reason": "KFOR stopped a courier on the Dragash road."},
        headers=auth("kfor.j2"),
    )
    request_id = asked.json()["id"]
    again = await client.post(
        "/api/v1/access-requests",
        json={"record_id": case_id, "reason": "Asking a second time, louder."},
        headers=auth("kfor.j2"),
    )
    assert again.status_code == 409

    # Another agency's administrator neither sees nor decides it.
    assert (
        await client.get(
            "/api/v1/access-requests", params={"direction": "incoming"}, headers=auth("eulex.chief")
        )
    ).json() == []
    foreign = await client.post(
        f"/api/v1/access-requests/{request_id}/approve", json={}, headers=auth("eulex.chief")
    )
    assert foreign.status_code == 404

    incoming = (
        await client.get(
            "/api/v1/access-requests", params={"direction": "incoming"}, headers=auth("unmik.chief")
        )
    ).json()
    assert [r["id"] for r in incoming] == [request_id]
    assert incoming[0]["requester"] == "kfor.j2"
    assert incoming[0]["requester_agency"] == "KFOR"

    past = await client.post(
        f"/api/v1/access-requests/{request_id}/approve",
        json={"expires_at": "2000-01-01T00:00:00Z"},
        headers=auth("unmik.chief"),
    )
    assert past.status_code == 422
    assert past.json()["detail"]["field"] == "expires_at"

    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    approved = await client.post(
        f"/api/v1/access-requests/{request_id}/approve",
        json={"expires_at": expires, "note": "Share findings with the OCB."},
        headers=auth("unmik.chief"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=auth("kfor.j2"))).status_code == 200

    mine = (await client.get("/api/v1/access-requests", headers=auth("kfor.j2"))).json()
    assert mine[0]["status"] == "approved"
    assert mine[0]["decided_by"] == "unmik.chief"
    assert mine[0]["decision_note"] == "Share findings with the OCB."

    twice = await client.post(
        f"/api/v1/access-requests/{request_id}/refuse", json={}, headers=auth("unmik.chief")
    )
    assert twice.status_code == 409

    actions = [row.action for row in await audit_rows(db_url)]
    assert "access_request.create" in actions
    assert "access_request.approve" in actions


async def test_refusal_leaves_the_record_hidden_and_says_so(client: httpx.AsyncClient) -> None:
    case_id = await _case_id(client, "UNMIK-2008-0047")
    asked = await client.post(
        "/api/v1/access-requests",
        json={"record_id": case_id, "reason": "We plan a raid on the same motel."},
        headers=auth("kfor.j2"),
    )
    refused = await client.post(
        f"/api/v1/access-requests/{asked.json()['id']}/refuse",
        json={"note": "Contact the UNMIK OCB duty officer instead."},
        headers=auth("unmik.analyst"),
    )
    assert refused.status_code == 200
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=auth("kfor.j2"))).status_code == 404
    mine = (
        await client.get("/api/v1/access-requests", params={"status": "refused"}, headers=auth("kfor.j2"))
    ).json()
    assert [r["decision_note"] for r in mine] == ["Contact the UNMIK OCB duty officer instead."]


async def test_deciders_below_the_records_clearance_do_not_see_the_request(client: httpx.AsyncClient) -> None:
    secret = await _case_id(client, "UNMIK-2007-0131")
    asked = await client.post(
        "/api/v1/access-requests",
        json={"record_id": secret, "reason": "We need the customs file for the gates."},
        headers=auth("kfor.j2"),
    )
    analyst = (
        await client.get(
            "/api/v1/access-requests", params={"direction": "incoming"}, headers=auth("unmik.analyst")
        )
    ).json()
    assert asked.json()["id"] not in {r["id"] for r in analyst}
    chief = (
        await client.get(
            "/api/v1/access-requests", params={"direction": "incoming"}, headers=auth("unmik.chief")
        )
    ).json()
    assert asked.json()["id"] in {r["id"] for r in chief}


async def test_asking_for_what_you_can_read_is_a_conflict(client: httpx.AsyncClient) -> None:
    own = await _case_id(client, "UNMIK-2007-0088", login="unmik.analyst")
    response = await client.post(
        "/api/v1/access-requests",
        json={"record_id": own, "reason": "Just checking how this works."},
        headers=auth("unmik.analyst"),
    )
    assert response.status_code == 409


async def test_access_requests_through_graphql(client: httpx.AsyncClient) -> None:
    case_id = await _case_id(client, "UNMIK-2007-0012")
    ask = await gql(
        client,
        "kfor.j2",
        "mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on AccessRequestPayload { accessRequest { id status } } } }",
        {"input": {"recordId": case_id, "reason": "Courier stopped at Dragash, same network."}},
    )
    request_id = ask["data"]["requestAccess"]["accessRequest"]["id"]
    listed = await gql(
        client, "unmik.chief", "{ accessRequests(direction: INCOMING) { nodes { id requester status } } }"
    )
    incoming = listed["data"]["accessRequests"]["nodes"]
    assert {"id": request_id, "requester": "kfor.j2", "status": "PENDING"} in incoming
    decided = await gql(
        client,
        "unmik.chief",
        "mutation($input: AccessDecisionInput!) { approveAccessRequest(input: $input) { __typename ... on AccessRequestPayload { accessRequest { status grantExpiresAt } } } }",
        {"input": {"id": request_id}},
    )
    assert decided["data"]["approveAccessRequest"]["accessRequest"]["status"] == "APPROVED"
    short = await gql(
        client,
        "unmik.chief",
        'mutation { requestAccess(input: {recordId: "'
        + MISSING
        + '", reason: "short"}) { __typename ... on UserError { field } } }',
    )
    assert short["data"]["requestAccess"] == {"__typename": "InvalidInputError", "field": "reason"}


async def test_tear_line_reaches_wider_readers_but_never_its_original(client: httpx.AsyncClient) -> None:
    original = await _intel_id(client, "Drenica", "kfor.j2")
    published = await client.post(
        f"/api/v1/intel-items/{original}/tear-lines",
        json={
            "title": "Weapons holdings in the Drenica valley (sanitised)",
            "content": "Reporting indicates weapons are held in the Drenica area; source details removed.",
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER", "releasable_to": ["UNMIK", "EULEX"]},
        },
        headers=auth("kfor.j2"),
    )
    assert published.status_code == 201, published.text
    version = published.json()
    assert version["markings"]["tear_line_of_id"] == original  # the author may follow the link
    seen = await client.get(f"/api/v1/intel-items/{version['id']}", headers=auth("unmik.analyst"))
    assert seen.status_code == 200
    assert seen.json()["markings"]["tear_line_of_id"] is None
    assert (
        await client.get(f"/api/v1/intel-items/{original}", headers=auth("unmik.analyst"))
    ).status_code == 404
    body = await gql(
        client,
        "unmik.analyst",
        "query($id: ID!) { node(id: $id) { ... on IntelItem { markings { tearLineOfId } } } }",
        {"id": version["id"]},
    )
    assert body["data"]["node"]["markings"]["tearLineOfId"] is None


async def test_recipients_cannot_publish_or_widen(client: httpx.AsyncClient) -> None:
    released = await _intel_id(client, "motel", "unmik.analyst")
    tear = await client.post(
        f"/api/v1/intel-items/{released}/tear-lines",
        json={"title": "x", "content": "y", "markings": {"tlp": "CLEAR", "classification": "UNCLASSIFIED"}},
        headers=auth("unmik.analyst"),
    )
    assert tear.status_code == 403
    widen = await client.patch(
        f"/api/v1/intel-items/{released}",
        json={
            "markings": {
                "classification": "CONFIDENTIAL",
                "tlp": "AMBER+STRICT",
                "releasable_to": ["UNMIK", "EULEX"],
                "orcon": True,
                "nohost": True,
            }
        },
        headers=auth("unmik.analyst"),
    )
    assert widen.status_code == 403


async def test_owner_narrows_and_it_takes_effect_at_once(client: httpx.AsyncClient) -> None:
    case_id = await _case_id(client, "UNMIK-2007-0088", login="unmik.analyst")
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=auth("kp.investigator"))).status_code == 200
    narrowed = await client.patch(
        f"/api/v1/cases/{case_id}",
        json={
            "markings": {
                "classification": "RESTRICTED",
                "tlp": "AMBER",
                "releasable_to": ["EULEX"],
                "nohost": True,
            }
        },
        headers=auth("unmik.analyst"),
    )
    assert narrowed.status_code == 200, narrowed.text
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=auth("kp.investigator"))).status_code == 404
    listing = (
        await client.get("/api/v1/cases", params={"limit": 100}, headers=auth("kp.investigator"))
    ).json()
    assert case_id not in {c["id"] for c in listing["items"]}
    body = await gql(client, "kp.investigator", "{ cases(first: 100) { totalCount } }")
    assert body["data"]["cases"]["totalCount"] == listing["total_count"]


def test_orcon_widening_needs_the_originator() -> None:
    originator, owner = uuid.uuid4(), uuid.uuid4()
    record = Record(
        kind=RecordKind.INTEL_ITEM,
        originator_agency_id=originator,
        custodian_agency_id=owner,
        owner_agency_id=owner,
        orcon=True,
    )

    def analyst(agency: uuid.UUID) -> Principal:
        return Principal(
            user_id=uuid.uuid4(),
            login="x",
            display_name="x",
            agency_id=agency,
            agency_code="X",
            host_nation=False,
            clearance=Classification.SECRET,
            roles=frozenset({Role.ANALYST}),
        )

    assert (
        may_widen(analyst(owner), record) == "ORCON: only the originator may widen the release of this record"
    )
    assert isinstance(may_widen(analyst(originator), record), str)  # not the owner: cannot edit at all
    record.orcon = False
    assert may_widen(analyst(owner), record) is True


async def test_release_to_a_group_one_does_not_belong_to_is_refused(client: httpx.AsyncClient) -> None:
    kfor_groups = {
        g["id"] for g in (await client.get("/api/v1/sharing-groups", headers=auth("kfor.j2"))).json()
    }
    unmik_groups = {
        g["id"] for g in (await client.get("/api/v1/sharing-groups", headers=auth("unmik.chief"))).json()
    }
    foreign = sorted(unmik_groups - kfor_groups)
    assert foreign, "the demo has UNMIK groups without KFOR"
    payload = {"title": "Weapons cache at Likoshan", "theatre": "KOS"}
    answers = []
    for group in (foreign[0], str(uuid.uuid4())):
        refused = await client.post(
            "/api/v1/cases",
            json={**payload, "markings": {"tlp": "AMBER", "sharing_group_ids": [group]}},
            headers=auth("kfor.j2"),
        )
        assert refused.status_code == 422
        assert refused.json()["detail"]["field"] == "markings.sharing_group_ids"
        answers.append(refused.json()["detail"]["message"].split(":")[0])
    # An existing group of others and a made-up id are refused alike.
    assert answers[0] == answers[1]
    allowed = await client.post(
        "/api/v1/cases",
        json={**payload, "markings": {"tlp": "AMBER", "sharing_group_ids": [sorted(kfor_groups)[0]]}},
        headers=auth("kfor.j2"),
    )
    assert allowed.status_code == 201, allowed.text
