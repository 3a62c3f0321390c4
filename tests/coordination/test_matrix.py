"""Responsibility matrix: overlaps, gaps, who sees it, and transfers between agencies."""

import uuid
from datetime import date
from typing import Any

import httpx

from ocpo_coord.coordination import matrix
from ocpo_coord.models import Responsibility
from ocpo_coord.models.enums import ActivityArea, ResponsibilityRole
from tests.conftest import auth, gql

THEATRE = uuid.uuid4()
A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _r(
    agency: uuid.UUID,
    start: str,
    end: str | None,
    *,
    role: ResponsibilityRole = ResponsibilityRole.LEAD,
    region: str = "",
    area: ActivityArea = ActivityArea.BORDER_CONTROL,
) -> Responsibility:
    return Responsibility(
        theatre_id=THEATRE,
        region=region,
        activity_area=area,
        agency_id=agency,
        role=role,
        valid_from=date.fromisoformat(start),
        valid_until=date.fromisoformat(end) if end else None,
    )


def test_overlapping_leads_are_found_with_their_shared_period() -> None:
    found = matrix.overlaps([_r(A, "2007-01-01", "2008-12-08"), _r(B, "2008-06-01", None)])
    assert len(found) == 1
    assert (found[0].start, found[0].end) == (date(2008, 6, 1), date(2008, 12, 8))


def test_consecutive_leads_do_not_overlap_but_a_shared_day_does() -> None:
    assert matrix.overlaps([_r(A, "2007-01-01", "2008-12-08"), _r(B, "2008-12-09", None)]) == []
    same_day = matrix.overlaps([_r(A, "2007-01-01", "2008-12-09"), _r(B, "2008-12-09", None)])
    assert [(o.start, o.end) for o in same_day] == [(date(2008, 12, 9), date(2008, 12, 9))]


def test_support_roles_other_areas_other_regions_and_one_agency_are_not_overlaps() -> None:
    assert (
        matrix.overlaps(
            [_r(A, "2007-01-01", None), _r(B, "2007-01-01", None, role=ResponsibilityRole.SUPPORT)]
        )
        == []
    )
    assert (
        matrix.overlaps(
            [_r(A, "2007-01-01", None), _r(B, "2007-01-01", None, area=ActivityArea.JUSTICE_SUPPORT)]
        )
        == []
    )
    assert (
        matrix.overlaps(
            [_r(A, "2007-01-01", None, region="Mitrovica"), _r(B, "2007-01-01", None, region="Prizren")]
        )
        == []
    )
    assert matrix.overlaps([_r(A, "2007-01-01", None), _r(A, "2008-01-01", None)]) == []


def test_a_theatre_wide_lead_overlaps_a_regional_one() -> None:
    found = matrix.overlaps([_r(A, "2007-01-01", None), _r(B, "2008-01-01", None, region="Mitrovica")])
    assert [o.region for o in found] == ["Mitrovica"]


def test_gaps_are_areas_without_a_theatre_wide_lead_on_the_day() -> None:
    rows = [
        _r(A, "2007-01-01", "2008-12-08"),
        _r(C, "2007-01-01", None, area=ActivityArea.JUSTICE_SUPPORT, region="Mitrovica"),
    ]
    on_2008 = {g.area for g in matrix.gaps(rows, date(2008, 1, 1))}
    assert ActivityArea.BORDER_CONTROL not in on_2008
    assert ActivityArea.JUSTICE_SUPPORT in on_2008  # only a regional lead
    assert ActivityArea.BORDER_CONTROL in {g.area for g in matrix.gaps(rows, date(2008, 12, 9))}
    # For the region itself, its regional lead closes the gap.
    mitrovica = {g.area for g in matrix.gaps(rows, date(2008, 1, 1), "Mitrovica")}
    assert ActivityArea.JUSTICE_SUPPORT not in mitrovica
    assert len(on_2008) == len(ActivityArea) - 1


async def _matrix(client: httpx.AsyncClient, login: str, **params: str) -> httpx.Response:
    return await client.get("/api/v1/responsibilities/matrix", params=params, headers=auth(login))


async def test_seeded_border_policing_overlap_is_listed(client: httpx.AsyncClient) -> None:
    response = await _matrix(client, "omik.adviser", theatre="KOS", on="2008-06-01")
    assert response.status_code == 200, response.text
    body = response.json()
    border = [o for o in body["overlaps"] if o["activity_area"] == "border_control"]
    assert sorted(tuple(sorted(o["agencies"])) for o in border) == [("EULEX", "KFOR"), ("KFOR", "UNMIK")]
    kfor_unmik = next(o for o in border if set(o["agencies"]) == {"KFOR", "UNMIK"})
    assert (kfor_unmik["overlap_from"], kfor_unmik["overlap_until"]) == ("2007-01-01", "2008-12-08")
    row = next(r for r in body["rows"] if r["activity_area"] == "border_control")
    assert row["leads"] == ["KFOR", "UNMIK"]
    assert (row["crime_axis"], row["action_axis"]) == ("consequences", "direct")
    gaps = {g["activity_area"] for g in body["gaps"]}
    assert "resource_governance" in gaps
    assert "demand_reduction" in gaps
    assert "border_control" not in gaps
    assert "KP" in body["agencies"]
    assert "MINUSTAH" not in body["agencies"]


async def test_matrix_is_for_agencies_deployed_in_the_theatre(client: httpx.AsyncClient) -> None:
    assert (await _matrix(client, "minustah.analyst", theatre="KOS")).status_code == 403
    assert (await _matrix(client, "admin", theatre="KOS")).status_code == 403
    haiti = await _matrix(client, "hnp.officer", theatre="HTI", on="2009-01-01")
    assert haiti.status_code == 200
    assert {r["theatre"] for r in haiti.json()["responsibilities"]} == {"HTI"}
    unknown = await _matrix(client, "kfor.j2", theatre="NOPE")
    assert unknown.status_code == 422
    assert "theatre" in unknown.text
    region = await _matrix(client, "kfor.j2", theatre="KOS", region="Port-de-Paix")
    assert region.status_code == 422
    assert region.json()["detail"]["field"] == "region"
    mitrovica = (await _matrix(client, "kfor.j2", theatre="KOS", region="Mitrovica", on="2009-01-01")).json()
    assert {r["region"] for r in mitrovica["responsibilities"]} == {"", "Mitrovica"}
    info = next(r for r in mitrovica["rows"] if r["activity_area"] == "information_gathering")
    assert {c["agency"] for c in info["cells"]} >= {"EULEX", "KFOR", "INTERPOL"}
    bad_day = await _matrix(client, "kfor.j2", theatre="KOS", on="yesterday")
    assert bad_day.status_code == 422
    assert "on" in bad_day.text


async def test_matrix_through_graphql(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "kp.investigator",
        """query($t: String!) { responsibilityMatrix(theatre: $t, on: "2008-06-01") {
             overlaps { activityArea agencies overlapFrom overlapUntil } gaps { activityArea } } }""",
        {"t": "KOS"},
    )
    assert "errors" not in body, body
    areas = {o["activityArea"] for o in body["data"]["responsibilityMatrix"]["overlaps"]}
    assert "BORDER_CONTROL" in areas


async def _responsibility(
    client: httpx.AsyncClient, login: str, agency: str, area: str, on: str
) -> dict[str, Any]:
    body = (await _matrix(client, login, theatre="KOS", on=on)).json()
    return next(
        r
        for r in body["responsibilities"]
        if r["agency"] == agency
        and r["activity_area"] == area
        and r["valid_from"] <= on
        and (r["valid_until"] is None or r["valid_until"] >= on)
    )


async def _offer(client: httpx.AsyncClient, login: str, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/responsibility-transfers", json=body, headers=auth(login))


async def test_transfer_lifecycle(client: httpx.AsyncClient) -> None:
    regional = await _responsibility(client, "unmik.chief", "UNMIK", "regional_cooperation", "2020-01-01")
    offer = await _offer(
        client,
        "unmik.chief",
        responsibility_id=regional["id"],
        to_agency="EULEX",
        effective_date="2020-03-01",
        note="External representation passes to EULEX",
    )
    assert offer.status_code == 201, offer.text
    transfer = offer.json()
    assert transfer["status"] == "offered"
    assert transfer["to_agency"] == "EULEX"
    # A second open offer on the same responsibility is refused.
    again = await _offer(
        client, "unmik.chief", responsibility_id=regional["id"], to_agency="OMIK", effective_date="2020-04-01"
    )
    assert again.status_code == 409
    assert "responsibility_id" in again.text
    # The receiver's coordinator sees it, in the feed too.
    feed = await client.get("/api/v1/notifications", headers=auth("eulex.chief"))
    assert any(n["subject_id"] == transfer["id"] for n in feed.json()["items"])
    # Only the receiving agency's coordinators and administrators may accept.
    url = f"/api/v1/responsibility-transfers/{transfer['id']}"
    assert (await client.post(f"{url}/accept", json={}, headers=auth("unmik.chief"))).status_code == 403
    assert (await client.post(f"{url}/accept", json={}, headers=auth("eulex.prosecutor"))).status_code == 403
    assert (await client.post(f"{url}/accept", json={}, headers=auth("kfor.j2"))).status_code == 404
    accepted = await client.post(f"{url}/accept", json={"note": "Agreed"}, headers=auth("eulex.chief"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    # The old responsibility ends the day before; the new one starts on the day.
    body = (await _matrix(client, "omik.adviser", theatre="KOS", on="2020-03-01")).json()
    mine = {r["id"]: r for r in body["responsibilities"]}
    assert mine[regional["id"]]["valid_until"] == "2020-02-29"
    new = mine[accepted.json()["new_responsibility_id"]]
    assert (new["agency"], new["valid_from"], new["valid_until"], new["role"]) == (
        "EULEX",
        "2020-03-01",
        None,
        "lead",
    )
    row = next(r for r in body["rows"] if r["activity_area"] == "regional_cooperation")
    assert row["leads"] == ["EULEX"]
    # A decided transfer cannot change again.
    for verb, login in (("accept", "eulex.chief"), ("decline", "eulex.chief"), ("withdraw", "unmik.chief")):
        late = await client.post(f"{url}/{verb}", json={}, headers=auth(login))
        assert late.status_code == 409, (verb, late.text)
    audit = await client.get(
        "/api/v1/audit-events",
        params={"action": "responsibility_transfer.accepted"},
        headers=auth("eulex.chief"),
    )
    assert audit.status_code == 200, audit.text
    assert audit.json()["items"], audit.text
    changed = await client.get(
        "/api/v1/audit-events", params={"action": "responsibility.transfer"}, headers=auth("eulex.chief")
    )
    entry = changed.json()["items"][0]
    assert entry["after"]["ended"]["valid_until"] == "2020-02-29"
    assert entry["after"]["started"]["agency"] == "EULEX"


async def test_transfer_offers_are_checked(client: httpx.AsyncClient) -> None:
    border = await _responsibility(client, "unmik.chief", "EULEX", "border_control", "2020-01-01")
    # Not UNMIK's to give.
    assert (
        await _offer(
            client, "unmik.chief", responsibility_id=border["id"], to_agency="KP", effective_date="2021-01-01"
        )
    ).status_code == 403
    # An analyst is not authorised, even in the holding agency.
    assert (
        await _offer(
            client,
            "eulex.prosecutor",
            responsibility_id=border["id"],
            to_agency="KP",
            effective_date="2021-01-01",
        )
    ).status_code == 403
    cases = [
        ({"to_agency": "NOPE", "effective_date": "2021-01-01"}, "to_agency"),
        ({"to_agency": "EULEX", "effective_date": "2021-01-01"}, "to_agency"),
        ({"to_agency": "HNP", "effective_date": "2021-01-01"}, "to_agency"),
        ({"to_agency": "KP", "effective_date": border["valid_from"]}, "effective_date"),
        ({"to_agency": "KP", "effective_date": "not a date"}, "effective_date"),
    ]
    for body, field in cases:
        response = await _offer(client, "eulex.chief", responsibility_id=border["id"], **body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.text, (body, response.text)
    missing = await _offer(
        client,
        "eulex.chief",
        responsibility_id=str(uuid.uuid4()),
        to_agency="KP",
        effective_date="2021-01-01",
    )
    assert missing.status_code == 404
    # Haiti's responsibilities are not reachable from Kosovo, not even by id.
    haiti = (await _matrix(client, "minustah.analyst", theatre="HTI")).json()["responsibilities"][0]
    assert (
        await _offer(
            client, "eulex.chief", responsibility_id=haiti["id"], to_agency="KP", effective_date="2021-01-01"
        )
    ).status_code == 404


async def test_withdraw_and_decline(client: httpx.AsyncClient) -> None:
    border = await _responsibility(client, "eulex.chief", "EULEX", "border_control", "2020-01-01")
    first = (
        await _offer(
            client, "eulex.chief", responsibility_id=border["id"], to_agency="KP", effective_date="2021-01-01"
        )
    ).json()
    url = f"/api/v1/responsibility-transfers/{first['id']}"
    assert (await client.post(f"{url}/withdraw", json={}, headers=auth("kp.investigator"))).status_code == 403
    withdrawn = await client.post(f"{url}/withdraw", json={}, headers=auth("eulex.chief"))
    assert withdrawn.json()["status"] == "withdrawn"
    second = (
        await _offer(
            client,
            "eulex.chief",
            responsibility_id=border["id"],
            to_agency="OMIK",
            effective_date="2021-01-01",
        )
    ).json()
    assert second["status"] == "offered"
    # OMIK has no coordinator: its analyst may not answer for it.
    refused = await client.post(
        f"/api/v1/responsibility-transfers/{second['id']}/decline", json={}, headers=auth("omik.adviser")
    )
    assert refused.status_code == 403
    listed = await client.get("/api/v1/responsibility-transfers", headers=auth("omik.adviser"))
    assert [t["id"] for t in listed.json()] == [second["id"]]
    assert (await client.get("/api/v1/responsibility-transfers", headers=auth("kfor.j2"))).json() == []


async def test_transfer_through_graphql_names_the_field(client: httpx.AsyncClient) -> None:
    regional = await _responsibility(client, "unmik.chief", "UNMIK", "regional_cooperation", "2020-01-01")
    mutation = """mutation($input: OfferTransferInput!) { offerResponsibilityTransfer(input: $input) {
        __typename ... on TransferPayload { transfer { id status toAgency } } ... on UserError { field message } } }"""
    early = await gql(
        client,
        "unmik.chief",
        mutation,
        {"input": {"responsibilityId": regional["id"], "toAgency": "EULEX", "effectiveDate": "2006-01-01"}},
    )
    assert early["data"]["offerResponsibilityTransfer"]["field"] == "effectiveDate"
    offered = await gql(
        client,
        "unmik.chief",
        mutation,
        {"input": {"responsibilityId": regional["id"], "toAgency": "EULEX", "effectiveDate": "2021-01-01"}},
    )
    transfer = offered["data"]["offerResponsibilityTransfer"]["transfer"]
    assert (transfer["status"], transfer["toAgency"]) == ("OFFERED", "EULEX")
    declined = await gql(
        client,
        "eulex.chief",
        """mutation($id: ID!) { declineResponsibilityTransfer(input: {id: $id, note: "Not our mandate"}) {
             __typename ... on TransferPayload { transfer { status decisionNote } } } }""",
        {"id": transfer["id"]},
    )
    assert declined["data"]["declineResponsibilityTransfer"]["transfer"] == {
        "status": "DECLINED",
        "decisionNote": "Not our mandate",
    }
    listed = await gql(
        client, "eulex.chief", "{ responsibilityTransfers(status: DECLINED) { nodes { id } } }"
    )
    assert listed["data"]["responsibilityTransfers"]["nodes"] == [{"id": transfer["id"]}]
