"""Mission-to-mission handover: lifecycle, inventory, dispositions, consent, completion."""

import uuid
from typing import Any

import httpx
from sqlmodel import col, func, select

from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Agency, Handover, HandoverLine, Record, RecordRelease
from tests.conftest import auth
from tests.fixtures.handover import IN, OUT, decide, lines, open_handover, sign_and_complete, work_to_reviewed
from tests.fixtures.queries import audit_rows, rows


async def test_inventory_takes_in_everything_in_scope(client: httpx.AsyncClient) -> None:
    handover = await open_handover(client)
    assert handover["status"] == "draft"
    assert handover["reference"].startswith("HO-UNMIK-2030-")
    built = await client.post(f"/api/v1/handovers/{handover['id']}/inventory", headers=auth(OUT))
    assert built.status_code == 200, built.text
    assert built.json()["status"] == "in_progress"
    inventory = await lines(client, handover["id"], OUT)
    kinds = {line["kind"] for line in inventory}
    assert {"case", "intel_item", "note", "task", "responsibility", "position", "checklist"} <= kinds
    assert len([line for line in inventory if line["kind"] == "checklist"]) == 4
    # Building again adds nothing: one line per subject.
    again = await client.post(f"/api/v1/handovers/{handover['id']}/inventory", headers=auth(OUT))
    assert again.status_code == 200
    assert len(await lines(client, handover["id"], OUT)) == len(inventory)
    # Third-party intelligence waits for its originator.
    pending = [line for line in inventory if line["consent_status"] == "pending"]
    assert pending
    assert all(line["consent_agency"] not in ("UNMIK", "EULEX") for line in pending)


async def test_report_on_a_fresh_inventory_has_no_dropped_records(client: httpx.AsyncClient) -> None:
    handover = await open_handover(client)
    await client.post(f"/api/v1/handovers/{handover['id']}/inventory", headers=auth(OUT))
    report = (await client.get(f"/api/v1/handovers/{handover['id']}/report", headers=auth(OUT))).json()
    assert report["dropped_records"] == 0
    assert report["decided_lines"] == 0
    assert report["total_lines"] == len(report["lines"]) > 0


async def test_full_lifecycle_moves_ownership_and_keeps_provenance(client: httpx.AsyncClient) -> None:
    hid, inventory = await work_to_reviewed(client)
    not_yet = await client.post(f"/api/v1/handovers/{hid}/complete", headers=auth(OUT))
    assert not_yet.status_code == 409
    assert "no sign-off yet" in not_yet.json()["detail"]["message"]
    for login in (OUT, IN):
        signed = await client.post(f"/api/v1/handovers/{hid}/sign-off", headers=auth(login))
        assert signed.status_code == 200, signed.text
    twice = await client.post(f"/api/v1/handovers/{hid}/sign-off", headers=auth(IN))
    assert twice.status_code == 409
    done = await client.post(f"/api/v1/handovers/{hid}/complete", headers=auth(IN))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    case_line = next(line for line in inventory if line["kind"] == "case")
    case = await client.get(f"/api/v1/cases/{case_line['subject_id']}", headers=auth(IN))
    assert case.status_code == 200, case.text
    markings = case.json()["markings"]
    assert markings["owner_agency"] == "EULEX"
    assert markings["originator_agency"] == "UNMIK"
    assert "transferred from UNMIK to EULEX under handover" in markings["provenance"]
    report = (await client.get(f"/api/v1/handovers/{hid}/report", headers=auth(IN))).json()
    assert report["dropped_records"] == 0
    assert report["completeness"] == 1.0
    assert all(line["decided_by"] for line in report["lines"])
    html = await client.get(f"/api/v1/handovers/{hid}/report.html", headers=auth(IN))
    assert html.status_code == 200
    assert "records dropped" in html.text
    assert html.headers["content-type"].startswith("text/html")


async def test_invalid_transitions_are_refused_with_a_reason(client: httpx.AsyncClient) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    early = await client.post(f"/api/v1/handovers/{hid}/submit", headers=auth(OUT))
    assert early.status_code == 409
    assert "draft" in early.json()["detail"]["message"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    open_lines = await client.post(f"/api/v1/handovers/{hid}/submit", headers=auth(OUT))
    assert open_lines.status_code == 409
    assert "still open" in open_lines.json()["detail"]["message"]
    wrong_side = await client.post(
        f"/api/v1/handovers/{hid}/review", json={"approve": True}, headers=auth(OUT)
    )
    assert wrong_side.status_code == 403
    assert "incoming" in wrong_side.json()["detail"]["message"]
    cancelled = await client.post(
        f"/api/v1/handovers/{hid}/cancel",
        json={"reason": "mandate extended by six months"},
        headers=auth(OUT),
    )
    assert cancelled.status_code == 200
    after = await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    assert after.status_code == 409


async def test_sides_decide_only_their_own_dispositions(client: httpx.AsyncClient) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    case_line = next(line for line in await lines(client, hid, OUT) if line["kind"] == "case")
    url = f"/api/v1/handovers/{hid}/lines/{case_line['id']}/decide"
    by_giver = await client.post(url, json={"disposition": "accepted"}, headers=auth(OUT))
    assert by_giver.status_code == 409
    assert "incoming" in by_giver.json()["detail"]["message"]
    withheld = await client.post(
        url, json={"disposition": "withheld", "reason": "under appeal"}, headers=auth(OUT)
    )
    assert withheld.status_code == 200, withheld.text
    overridden = await client.post(url, json={"disposition": "accepted"}, headers=auth(IN))
    assert overridden.status_code == 409
    no_reason = await client.post(url, json={"disposition": "declined"}, headers=auth(IN))
    assert no_reason.status_code == 422
    outsider = await client.get(f"/api/v1/handovers/{hid}", headers=auth("kfor.j2"))
    assert outsider.status_code == 404


async def test_consent_refusal_leaves_a_stub_that_says_whom_to_ask(client: httpx.AsyncClient) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    asked = (await client.get("/api/v1/handover-consents", headers=auth("kfor.j2"))).json()
    mine = [r for r in asked if r["handover_id"] == hid]
    assert mine, "KFOR intelligence in UNMIK cases must ask KFOR"
    line_id = mine[0]["line_id"]
    # Nobody but the originator answers.
    assert (
        await client.post(f"/api/v1/handover-consents/{line_id}", json={"grant": True}, headers=auth(OUT))
    ).status_code == 404
    refused = await client.post(
        f"/api/v1/handover-consents/{line_id}",
        json={"grant": False, "note": "source protection"},
        headers=auth("kfor.j2"),
    )
    assert refused.status_code == 200, refused.text
    seen = next(line for line in await lines(client, hid, IN) if line["id"] == line_id)
    assert seen["disposition"] == "withheld"
    assert seen["consent_status"] == "refused"
    if not seen["readable"]:
        assert seen["ask"]
        assert seen["ask"].startswith("KFOR")
        assert seen["classification"] is None
    accept = await client.post(
        f"/api/v1/handovers/{hid}/lines/{line_id}/decide", json={"disposition": "accepted"}, headers=auth(IN)
    )
    assert accept.status_code == 409


async def test_bulk_decisions_count_what_they_skip(client: httpx.AsyncClient, db_url: str) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    result = await decide(client, hid, IN, {"disposition": "open"}, disposition="accepted")
    assert result["decided"] > 0
    assert result["skipped"].get("waiting for the originator's consent", 0) > 0
    visible = await lines(client, hid, IN)
    assert sum(result["skipped"].values()) + result["decided"] == len(visible)
    accepted = [line for line in visible if line["disposition"] == "accepted"]
    assert len(accepted) == result["decided"]
    audited = [e for e in await audit_rows(db_url) if e.action == "handover.decide"]
    assert len(audited) == result["decided"]


async def test_graphql_runs_the_same_lifecycle(client: httpx.AsyncClient) -> None:
    from tests.conftest import gql

    created = await gql(
        client,
        OUT,
        """mutation($input: CreateHandoverInput!) { createHandover(input: $input) {
             __typename ... on HandoverPayload { handover { id status incomingAgency } } } }""",
        {
            "input": {
                "title": "UNMIK to EULEX by GraphQL",
                "incomingAgency": "EULEX",
                "theatre": "KOS",
                "cutOff": "2030-06-30",
            }
        },
    )
    handover = created["data"]["createHandover"]["handover"]
    assert handover["status"] == "DRAFT"
    hid = handover["id"]
    built = await gql(
        client,
        OUT,
        "mutation($id: ID!) { buildHandoverInventory(id: $id) { __typename ... on HandoverPayload { handover { status } } } }",
        {"id": hid},
    )
    assert built["data"]["buildHandoverInventory"]["handover"]["status"] == "IN_PROGRESS"
    decide = """mutation($input: DecideHandoverLinesInput!) { decideHandoverLines(input: $input) {
        __typename ... on DecideHandoverLinesPayload { decided skipped { reason count } } } }"""
    by_giver = await gql(
        client,
        OUT,
        decide,
        {"input": {"handoverId": hid, "filter": {"kind": "CASE"}, "disposition": "ACCEPTED"}},
    )
    assert by_giver["data"]["decideHandoverLines"]["decided"] == 0
    assert "only the incoming agency" in str(by_giver["data"]["decideHandoverLines"]["skipped"])
    by_receiver = await gql(
        client,
        IN,
        decide,
        {"input": {"handoverId": hid, "filter": {"kind": "CASE"}, "disposition": "ACCEPTED"}},
    )
    assert by_receiver["data"]["decideHandoverLines"]["decided"] > 0
    outsider = await gql(
        client, "kfor.j2", "query($id: ID!) { handover(id: $id) { reference } }", {"id": hid}
    )
    assert outsider["data"]["handover"] is None
    query = """query($id: ID!, $after: String) {
        handoverLines(handoverId: $id, filter: {disposition: ACCEPTED}, first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { seq kind disposition decidedBy } } }"""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(client, IN, query, {"id": hid, "after": after}))["data"]["handoverLines"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] == by_receiver["data"]["decideHandoverLines"]["decided"]
    assert [line["seq"] for line in seen] == sorted(line["seq"] for line in seen)
    assert {line["decidedBy"] for line in seen} == {IN}
    bad = await gql(client, IN, query, {"id": hid, "after": "x' OR 1=1"})
    assert bad["data"] is None
    assert "after" in str(bad["errors"])


async def test_lines_and_report_never_show_what_the_reader_may_not_read(client: httpx.AsyncClient) -> None:
    """Every reader of a handover sees a title only for records they may read themselves."""
    handover = await open_handover(client)
    hid = handover["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    full = {line["id"]: line for line in await lines(client, hid, OUT)}
    titles: dict[str, str] = {}
    for line in full.values():
        if line["readable"] and line["kind"] in ("case", "intel_item", "evidence", "task", "note"):
            titles[line["subject_id"]] = line["label"]
    assert titles
    stubs = 0
    for login in ("eulex.prosecutor", "unmik.analyst"):
        seen = await lines(client, hid, login)
        report = (await client.get(f"/api/v1/handovers/{hid}/report", headers=auth(login))).json()
        readable_subjects = {line["subject_id"] for line in seen if line["readable"]}
        blob = str(seen) + str(report)
        for line in seen:
            if line["readable"]:
                continue
            stubs += 1
            # A stub says that an agency holds something and whom to ask: nothing else.
            for field in ("subject_id", "case_id", "kind", "classification", "owner_agency"):
                assert line[field] is None, (login, field)
            for field in ("originator_agency", "consent_agency", "decline_outcome", "owner"):
                assert line[field] is None, (login, field)
            assert (line["title"], line["reason"], line["consent_note"]) == ("", "", "")
            assert line["ask"], line
        for subject_id, title in titles.items():
            if subject_id not in readable_subjects:
                assert title not in blob, (login, title)
                assert subject_id not in blob, (login, subject_id)
        # Whatever the reader may read directly, the line may name.
        readable_ids = [line["subject_id"] for line in seen if line["readable"] and line["kind"] == "case"]
        for case_id in readable_ids:
            assert (await client.get(f"/api/v1/cases/{case_id}", headers=auth(login))).status_code == 200
    assert stubs > 0, "the demo handover holds records some readers may not read"


async def test_checklist_lines_have_owners_and_the_template_is_editable(client: httpx.AsyncClient) -> None:
    # The receiving agency's administrator edits its own template, starting from the default.
    template = (await client.get("/api/v1/handover-checklist", headers=auth(OUT))).json()
    assert len(template) == 4
    assert all(item["agency"] is None for item in template)
    added = await client.post(
        "/api/v1/handover-checklist",
        json={"title": "Hand over informant files to the receiving handler", "due_days_before_cut_off": 3},
        headers=auth(OUT),
    )
    assert added.status_code == 201, added.text
    assert len(added.json()) == 5
    assert {item["agency"] for item in added.json()} == {"UNMIK"}
    refused = await client.post(
        "/api/v1/handover-checklist", json={"title": "x" * 10}, headers=auth("unmik.analyst")
    )
    assert refused.status_code == 403
    # EULEX still has the default.
    assert len((await client.get("/api/v1/handover-checklist", headers=auth(IN))).json()) == 4

    handover = await open_handover(client, cut_off="2030-12-31")
    hid = handover["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    checklist = await lines(client, hid, OUT, kind="checklist")
    assert len(checklist) == 5
    informants = next(line for line in checklist if line["title"].startswith("Hand over informant"))
    assert informants["due_date"] == "2030-12-28"
    url = f"/api/v1/handovers/{hid}/lines/{informants['id']}"
    assigned = await client.patch(
        url, json={"owner": "eulex.prosecutor", "due_date": "2030-12-20"}, headers=auth(OUT)
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["owner"] == "eulex.prosecutor"
    assert assigned.json()["due_date"] == "2030-12-20"
    stranger = await client.patch(url, json={"owner": "kfor.j2"}, headers=auth(OUT))
    assert stranger.status_code == 422
    assert stranger.json()["detail"]["field"] == "owner"
    done_without_proof = await client.post(
        f"{url}/decide", json={"disposition": "accepted"}, headers=auth(IN)
    )
    assert done_without_proof.status_code == 409
    done = await client.post(
        f"{url}/decide",
        json={"disposition": "accepted", "completion_evidence": "Receipt signed 20 Dec"},
        headers=auth(IN),
    )
    assert done.status_code == 200, done.text


async def test_originators_and_receivers_are_notified_without_content(client: httpx.AsyncClient) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))

    async def feed(login: str, kind: str) -> list[dict[str, Any]]:
        page = await client.get("/api/v1/notifications", params={"kind": kind}, headers=auth(login))
        assert page.status_code == 200, page.text
        return [n for n in page.json()["items"] if n["subject_id"] == hid]

    asked = await feed("kfor.j2", "consent_request")
    assert len(asked) == 1
    assert handover["reference"] in asked[0]["title"]
    assert asked[0]["record_id"] is None
    # The receiver hears of the steps it must act on; nobody outside the two sides does.
    assert await feed(IN, "handover_event")
    assert not await feed("kfor.j2", "handover_event")
    titles = [
        line["label"] for line in await lines(client, hid, OUT) if line["readable"] and line["kind"] == "case"
    ]
    everything = str(await feed("kfor.j2", "consent_request")) + str(await feed(IN, "handover_event"))
    for title in titles:
        assert title not in everything


async def test_material_already_released_to_the_receiver_keeps_one_release(
    client: httpx.AsyncClient, db_url: str
) -> None:
    hid, _ = await work_to_reviewed(client)
    # Third-party records on accepted lines are released to the receiver at completion;
    # some of them were released to it before the handover.
    third_party = await _third_party_records(db_url, hid)
    assert third_party, "the seed's UNMIK cases hold other agencies' material"
    eulex = await _agency_id(db_url, "EULEX")
    already = await _releases_per_record(db_url, third_party, eulex)
    await _release(db_url, [r for r in third_party if r not in already], eulex)
    await sign_and_complete(client, hid)
    assert await _releases_per_record(db_url, third_party, eulex) == dict.fromkeys(third_party, 1)
    listed = (await client.get("/api/v1/intel-items", params={"limit": 100}, headers=auth(IN))).json()
    for item in listed["items"]:
        released = item["markings"]["releasable_to"]
        assert len(released) == len(set(released)), item["id"]


async def _agency_id(db_url: str, code: str) -> uuid.UUID:
    found = await rows(db_url, select(Agency.id).where(Agency.code == code))
    return uuid.UUID(str(found[0]))


async def _third_party_records(db_url: str, handover_id: str) -> list[uuid.UUID]:
    handover = uuid.UUID(handover_id)
    statement = (
        select(Record.id)
        .join(HandoverLine, col(HandoverLine.subject_id) == col(Record.id))
        .join(Handover, col(Handover.id) == col(HandoverLine.handover_id))
        .where(
            HandoverLine.handover_id == handover,
            HandoverLine.disposition == "accepted",
            col(Record.owner_agency_id) != col(Handover.outgoing_agency_id),
        )
    )
    return [uuid.UUID(str(found)) for found in await rows(db_url, statement)]


async def _release(db_url: str, record_ids: list[uuid.UUID], agency_id: uuid.UUID) -> None:
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            session.add_all(RecordRelease(record_id=r, agency_id=agency_id) for r in record_ids)
            await session.commit()
    finally:
        await engine.dispose()


async def _releases_per_record(
    db_url: str, record_ids: list[uuid.UUID], agency_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    statement = (
        select(RecordRelease.record_id, func.count())
        .where(col(RecordRelease.record_id).in_(record_ids), RecordRelease.agency_id == agency_id)
        .group_by(col(RecordRelease.record_id))
    )
    return {uuid.UUID(str(record_id)): int(n) for record_id, n in await rows(db_url, statement)}
