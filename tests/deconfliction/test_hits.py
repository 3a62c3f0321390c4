"""Deconfliction: selector and operation hits, what they reveal, and to whom."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event

from ocpo_coord.deconfliction.geo import haversine_m, places_overlap, windows_overlap
from ocpo_coord.entity.selectors import normalize
from ocpo_coord.models.enums import SelectorKind
from tests.conftest import auth, gql
from tests.fixtures.queries import audit_rows

T0 = datetime(2031, 3, 1, 2, 0, tzinfo=UTC)

# --- pure functions ---------------------------------------------------------


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude is about 111.2 km on the mean sphere.
    assert haversine_m(42.0, 21.0, 43.0, 21.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(42.37, 21.155, 42.37, 21.155) == 0


def test_circles_overlap_when_they_touch_and_not_a_metre_beyond() -> None:
    d = haversine_m(42.0, 21.0, 42.0, 21.01)
    assert places_overlap((42.0, 21.0, d / 2), (42.0, 21.01, d / 2))
    assert places_overlap((42.0, 21.0, 0), (42.0, 21.01, d))
    assert not places_overlap((42.0, 21.0, d / 2 - 0.5), (42.0, 21.01, d / 2 - 0.5))
    # Point operations at the same spot collide.
    assert places_overlap((42.0, 21.0, 0), (42.0, 21.0, 0))


def test_windows_overlap_when_they_touch_and_not_a_second_apart() -> None:
    one = (T0, T0 + timedelta(hours=4))
    assert windows_overlap(one, (T0 + timedelta(hours=4), T0 + timedelta(hours=6)))
    assert windows_overlap(one, (T0 - timedelta(days=1), T0 + timedelta(days=1)))
    assert not windows_overlap(one, (T0 + timedelta(hours=4, seconds=1), T0 + timedelta(hours=6)))
    assert not windows_overlap(one, (T0 - timedelta(hours=2), T0 - timedelta(seconds=1)))


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        (SelectorKind.NAME, "Đorđe Petrović", "ПЕТРОВИЋ Ђорђе"),
        (SelectorKind.NAME, "Petrovic, Djordje", "Ђорђе Петровић"),
        (SelectorKind.PHONE, "+377 44 555 123", "044/555-123"),
        (SelectorKind.PHONE, "00383 44 555 123", "044 555 123"),
        (SelectorKind.PHONE, "(509) 3712-4488", "+509 3712 4488"),
    ],
)
def test_spellings_that_must_meet(kind: SelectorKind, a: str, b: str) -> None:
    assert normalize(kind, a) == normalize(kind, b)


# --- helpers ----------------------------------------------------------------


async def _entity(
    client: httpx.AsyncClient, login: str, label: str, selectors: list[tuple[str, str]], **markings: Any
) -> dict[str, Any]:
    body = {
        "entity_kind": "person",
        "label": label,
        "theatre": "KOS",
        "selectors": [{"kind": k, "value": v} for k, v in selectors],
        "markings": {"classification": "RESTRICTED", "tlp": "AMBER", **markings},
    }
    response = await client.post("/api/v1/entities", json=body, headers=auth(login))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _hits(client: httpx.AsyncClient, login: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/deconfliction-hits", params=params, headers=auth(login))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def _operation(client: httpx.AsyncClient, login: str, **overrides: Any) -> httpx.Response:
    body = {
        "operation_kind": "raid",
        "title": "Search of a warehouse in Fushë Kosovë",
        "site_name": "Warehouse district",
        "latitude": 42.63,
        "longitude": 21.09,
        "radius_m": 200,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + timedelta(hours=4)).isoformat(),
        "theatre": "KOS",
        "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
        **overrides,
    }
    return await client.post("/api/v1/planned-operations", json=body, headers=auth(login))


# --- selector hits ------------------------------------------------------------


async def test_names_in_two_scripts_and_orders_hit_both_agencies(client: httpx.AsyncClient) -> None:
    eulex = await _entity(
        client, "eulex.chief", "Đorđe Petrović (fuel smuggler)", [("name", "Đorđe Petrović")]
    )
    kfor = await _entity(client, "kfor.j2", "ПЕТРОВИЋ Ђорђе", [("name", "ПЕТРОВИЋ Ђорђе")])
    eulex_side = [h for h in await _hits(client, "eulex.chief") if h["record_id"] == eulex["id"]]
    kfor_side = [h for h in await _hits(client, "kfor.j2") if h["record_id"] == kfor["id"]]
    assert [(h["other_agency"], h["match_kind"], h["hit_kind"]) for h in eulex_side] == [
        ("KFOR", "name", "selector")
    ]
    assert [(h["other_agency"], h["match_kind"]) for h in kfor_side] == [("EULEX", "name")]
    assert "EULEX" in kfor_side[0]["contact"]
    assert "Head, Organised Crime Investigation Unit" in kfor_side[0]["contact"]


async def test_an_albanian_and_a_serbian_cyrillic_spelling_hit(client: httpx.AsyncClient) -> None:
    """Kosovo's records write one person in Albanian, Serbian Latin or Serbian Cyrillic,
    and Russian or Greek names as English-language records write them."""
    unmik = await _entity(client, "unmik.chief", "Courier", [("name", "Рамуш Харадинај")])
    eulex = await _entity(client, "eulex.chief", "Courier (EULEX)", [("name", "Ramush Haradinaj")])
    greek = await _entity(client, "kfor.j2", "Shipper", [("name", "Γιώργος Παπαδόπουλος")])
    await _entity(client, "interpol.liaison", "Shipper (notice)", [("name", "PAPADOPOULOS Giorgos")])
    unmik_side = [h for h in await _hits(client, "unmik.chief") if h["record_id"] == unmik["id"]]
    assert [(h["other_agency"], h["match_kind"]) for h in unmik_side] == [("EULEX", "name")]
    assert [h["record_id"] for h in await _hits(client, "eulex.chief") if h["record_id"] == eulex["id"]]
    kfor_side = [h for h in await _hits(client, "kfor.j2") if h["record_id"] == greek["id"]]
    assert [(h["other_agency"], h["match_kind"]) for h in kfor_side] == [("INTERPOL", "name")]


async def test_phones_written_several_ways_hit(client: httpx.AsyncClient) -> None:
    first = await _entity(client, "interpol.liaison", "Handset", [("phone", "+377 44 555 123")])
    await _entity(client, "eulex.chief", "Phone of the driver", [("phone", "044/555-123")])
    await _entity(client, "unmik.chief", "Driver's phone", [("phone", "00383 44 555 123")])
    interpol = [h for h in await _hits(client, "interpol.liaison") if h["record_id"] == first["id"]]
    assert sorted(h["other_agency"] for h in interpol) == ["EULEX", "UNMIK"]
    assert {h["match_kind"] for h in interpol} == {"phone"}


async def test_a_new_entity_and_its_hits_cost_one_statement_per_kind_of_row(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """An entity created with a phone another agency holds, linked to an item: the
    caller, the links' check (their kinds with it), the record and its index rows, the
    entity, its link and its selectors, the collision query (host nations with it),
    contact positions, their holders and the authorised accounts, then the hits, their
    notifications and every audit entry, the create's first; on SQLite also
    ``BEGIN IMMEDIATE``. Each shortcut that stops working adds a statement here."""
    phone = "+383 44 765 432"
    await _entity(client, "kfor.j2", "Courier", [("phone", phone)])
    item = await client.post(
        "/api/v1/intel-items",
        json={
            "title": "Courier seen at the border",
            "content": "A courier with a known phone.",
            "information_date": "2031-02-01",
            "source_reliability": "B",
            "information_credibility": "2",
            "theatre": "KOS",
        },
        headers=auth("eulex.chief"),
    )
    assert item.status_code == 201, item.text
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split(None, 3)[2] if statement.startswith("INSERT") else statement[:40])

    body = {
        "entity_kind": "person",
        "label": "Courier (EULEX)",
        "theatre": "KOS",
        "selectors": [{"kind": "phone", "value": phone}, {"kind": "name", "value": "Arben Courier"}],
        "links": [{"record_id": item.json()["id"]}],
    }
    event.listen(Engine, "before_cursor_execute", count)
    try:
        response = await client.post("/api/v1/entities", json=body, headers=auth("eulex.chief"))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert response.status_code == 201, response.text
    assert response.json()["links"] == [
        {"record_id": item.json()["id"], "record_kind": "intel_item", "role": "subject"}
    ]
    inserts = [s for s in statements if not s.startswith(("SELECT", "BEGIN"))]
    assert inserts == [
        "record",
        "record_reach",
        "entity",
        "record_entity",
        "selector",
        "deconfliction_hit",
        "notification",
        "audit_event",
    ], statements
    assert len(statements) == (14 if db_url.startswith("postgresql") else 15), statements
    created = response.json()["id"]
    entries = [
        (r.action, r.record_id)
        for r in await audit_rows(db_url)
        if r.action in ("entity.create", "deconfliction.hit")
        and r.at >= datetime.fromisoformat(response.json()["created_at"])
    ]
    assert entries[0] == ("entity.create", uuid.UUID(created)), entries
    assert {a for a, _ in entries[1:]} == {"deconfliction.hit"}
    assert len(entries) == 3  # a side for each agency


async def test_no_hit_within_one_agency_or_for_different_values(client: httpx.AsyncClient) -> None:
    before = len(await _hits(client, "eulex.chief"))
    await _entity(client, "eulex.chief", "A", [("phone", "044 777 001")])
    await _entity(client, "eulex.chief", "B", [("phone", "+383 44 777 001")])
    await _entity(client, "kfor.j2", "C", [("phone", "044 777 002")])
    assert len(await _hits(client, "eulex.chief")) == before


async def test_an_unreadable_record_is_never_described_in_a_hit(client: httpx.AsyncClient) -> None:
    secret = await _entity(
        client,
        "kfor.j2",
        "SOURCE NIGHTJAR handler phone",
        [("phone", "044 901 234")],
        classification="SECRET",
        tlp="RED",
        orcon=True,
    )
    mine = await _entity(client, "omik.adviser", "Municipal official", [("phone", "+383 44 901 234")])
    response = await client.get("/api/v1/deconfliction-hits", headers=auth("omik.adviser"))
    hits = [h for h in response.json() if h["record_id"] == mine["id"]]
    assert len(hits) == 1
    hit = hits[0]
    assert hit["other_agency"] == "KFOR"
    assert hit["other_record_id"] is None
    text = response.text + json.dumps(await _feed(client, "omik.adviser"))
    for secret_part in (secret["id"], "NIGHTJAR", "handler", "SECRET"):
        assert secret_part not in text
    # The hit's own id does not open the record either.
    assert (
        await client.get(f"/api/v1/entities/{secret['id']}", headers=auth("omik.adviser"))
    ).status_code == 404
    # KFOR's side names OMIK's record only because KFOR may not read it: it may not.
    kfor = [h for h in await _hits(client, "kfor.j2") if h["record_id"] == secret["id"]]
    assert [(h["other_agency"], h["other_record_id"]) for h in kfor] == [("OMIK", None)]


async def test_a_readable_other_record_is_named(client: httpx.AsyncClient) -> None:
    # Seed: KFOR's saloon (KS-417-AC) is released to UNMIK; UNMIK's Audi is not to KFOR.
    unmik = [h for h in await _hits(client, "unmik.chief") if h["match_kind"] == "vehicle_plate"]
    kfor_plate = next(h for h in unmik if h["other_agency"] == "KFOR")
    assert kfor_plate["other_record_id"] is not None
    entity = await client.get(
        f"/api/v1/entities/{kfor_plate['other_record_id']}", headers=auth("unmik.chief")
    )
    assert entity.status_code == 200
    kfor = [h for h in await _hits(client, "kfor.j2") if h["match_kind"] == "vehicle_plate"]
    assert next(h for h in kfor if h["other_agency"] == "UNMIK")["other_record_id"] is None


# --- host nation and NOHOST ---------------------------------------------------------


async def test_host_nation_is_not_told_about_nohost_records(client: httpx.AsyncClient) -> None:
    # Seed: KP's bar manager shares a phone with UNMIK's and KFOR's NOHOST motel records.
    assert await _hits(client, "kp.investigator") == []
    unmik = [h for h in await _hits(client, "unmik.chief") if h["other_agency"] == "KP"]
    assert [(h["match_kind"], h["hit_kind"]) for h in unmik] == [("phone", "selector")]
    assert "Gjilan" in unmik[0]["contact"]
    kfor = [h for h in await _hits(client, "kfor.j2") if h["other_agency"] == "KP"]
    assert len(kfor) == 1
    # Trying again, with a new record and yet another spelling: still nothing for KP.
    await _entity(client, "kp.investigator", "Motel manager (second report)", [("phone", "+377-44-218-907")])
    assert await _hits(client, "kp.investigator") == []
    feed = await _feed(client, "kp.investigator")
    assert all(n["kind"] != "deconfliction_hit" for n in feed["items"])
    # UNMIK is told about the new KP record; KP cannot open UNMIK's side by its id.
    unmik_after = [h for h in await _hits(client, "unmik.chief") if h["other_agency"] == "KP"]
    assert len(unmik_after) == 2
    for hit in unmik_after:
        response = await client.get(
            f"/api/v1/deconfliction-hits/{hit['id']}", headers=auth("kp.investigator")
        )
        assert response.status_code == 404
        ack = await client.post(
            f"/api/v1/deconfliction-hits/{hit['id']}/acknowledge", headers=auth("kp.investigator")
        )
        assert ack.status_code == 404
    # Nor through the audit log (KP has no auditor; its investigator may not read it at all).
    assert (await client.get("/api/v1/audit-events", headers=auth("kp.investigator"))).status_code == 403


async def test_haiti_host_nation_is_not_told_about_the_jmac_handset(client: httpx.AsyncClient) -> None:
    assert await _hits(client, "hnp.officer") == []
    minustah = await _hits(client, "minustah.analyst")
    assert ("HNP", "phone") in {(h["other_agency"], h["match_kind"]) for h in minustah}


async def test_a_non_host_record_still_reaches_the_host_nation(client: httpx.AsyncClient) -> None:
    await _entity(client, "eulex.chief", "Cannabis grower", [("phone", "044 333 909")])
    kp = await _entity(client, "kp.investigator", "Istog grower", [("phone", "+383 44 333 909")])
    hits = await _hits(client, "kp.investigator")
    assert [(h["other_agency"], h["record_id"]) for h in hits] == [("EULEX", kp["id"])]


# --- operations -------------------------------------------------------------


async def test_seeded_kfor_raid_hits_kfor_and_unmik(client: httpx.AsyncClient) -> None:
    kfor = await _hits(client, "kfor.j2", hit_kind="operation")
    unmik = await _hits(client, "unmik.chief", hit_kind="operation")
    assert [(h["other_agency"], h["match_kind"]) for h in kfor] == [("UNMIK", "place_and_time")]
    assert [(h["other_agency"], h["match_kind"]) for h in unmik] == [("KFOR", "place_and_time")]
    # Neither may read the other's operation, so neither learns its id.
    assert kfor[0]["other_record_id"] is None
    assert unmik[0]["other_record_id"] is None
    assert "KOCB" in kfor[0]["contact"]
    assert "KFOR HQ J2" in unmik[0]["contact"]
    ops = await client.get("/api/v1/planned-operations", headers=auth("kfor.j2"))
    hits_by_title = {o["title"]: o["hits"] for o in ops.json()["items"]}
    # KFOR reads its raid and EULEX's GREEN patrol; UNMIK's surveillance stays hidden.
    assert hits_by_title == {
        "Cordon-and-search of Motel 'Ylli i Jugut'": 1,
        "Green-border patrol near Restelica with KP Border Police": 0,
    }
    # The EULEX patrol in Dragash and the Haiti search collide with nothing.
    eulex_ops = await _hits(client, "eulex.chief", hit_kind="operation")
    assert eulex_ops == []


async def test_operations_collide_in_place_and_time_only(client: httpx.AsyncClient) -> None:
    first = await _operation(client, "eulex.chief")
    assert first.status_code == 201, first.text
    assert first.json()["hits"] == 0
    # Touching window (starts when the first ends), circles just meeting (radii 200 + 150).
    touching = await _operation(
        client,
        "kfor.j2",
        operation_kind="surveillance",
        latitude=42.63 + 349.9 / 111_195,
        radius_m=150,
        starts_at=(T0 + timedelta(hours=4)).isoformat(),
        ends_at=(T0 + timedelta(hours=9)).isoformat(),
    )
    assert touching.status_code == 201
    assert touching.json()["hits"] == 1
    # A minute later, or 100 m further, or in another theatre: nothing.
    later = await _operation(
        client,
        "unmik.chief",
        starts_at=(T0 + timedelta(hours=9, minutes=1)).isoformat(),
        ends_at=(T0 + timedelta(hours=10)).isoformat(),
    )
    farther = await _operation(client, "omik.adviser", latitude=42.63 - 500 / 111_195, radius_m=250)
    elsewhere = await _operation(client, "unodc.expert", theatre="HTI", latitude=42.63, longitude=21.09)
    for response in (later, farther, elsewhere):
        assert response.status_code == 201, response.text
        assert response.json()["hits"] == 0
    eulex = await _hits(client, "eulex.chief", hit_kind="operation")
    assert [(h["other_agency"], h["record_id"]) for h in eulex] == [("KFOR", first.json()["id"])]


async def test_cancelled_and_own_operations_do_not_collide(client: httpx.AsyncClient) -> None:
    await _operation(client, "eulex.chief", status="cancelled")
    await _operation(client, "eulex.chief")
    again = await _operation(client, "eulex.prosecutor")
    assert again.json()["hits"] == 0
    other = await _operation(client, "kfor.j2")
    # The two live EULEX operations, not the cancelled one.
    assert other.json()["hits"] == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"longitude": -181}, "longitude"),
        ({"radius_m": -1}, "radius_m"),
        ({"operation_kind": "picnic"}, "operation_kind"),
        ({"starts_at": "2031-03-01T02:00:00"}, "starts_at"),
        ({"ends_at": T0.isoformat()}, "ends_at"),
        ({"theatre": "ATLANTIS"}, "theatre"),
    ],
)
async def test_bad_operations_are_refused_by_field(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await _operation(client, "eulex.chief", **overrides)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"] == field


async def test_operation_through_graphql(client: httpx.AsyncClient) -> None:
    await _operation(client, "eulex.chief")
    body = await gql(
        client,
        "kfor.j2",
        """mutation($input: CreatePlannedOperationInput!) { createPlannedOperation(input: $input) {
             __typename ... on PlannedOperationPayload { plannedOperation { id hits markings { ownerAgency } } }
             ... on UserError { message field } } }""",
        {
            "input": {
                "operationKind": "ARREST",
                "title": "Arrest of a courier",
                "latitude": 42.6301,
                "longitude": 21.0901,
                "radiusM": 50,
                "startsAt": (T0 + timedelta(hours=1)).isoformat(),
                "endsAt": (T0 + timedelta(hours=2)).isoformat(),
                "theatre": "KOS",
            }
        },
    )
    assert body["data"]["createPlannedOperation"]["plannedOperation"]["hits"] == 1, body
    backwards = await gql(
        client,
        "kfor.j2",
        """mutation { createPlannedOperation(input: {operationKind: RAID, title: "x", latitude: 42.6,
             longitude: 21.1, startsAt: "2031-03-01T05:00:00Z", endsAt: "2031-03-01T04:00:00Z", theatre: "KOS"}) {
             __typename ... on UserError { field } } }""",
    )
    assert backwards["data"]["createPlannedOperation"] == {
        "__typename": "InvalidInputError",
        "field": "endsAt",
    }
    hits = await gql(
        client,
        "kfor.j2",
        "{ deconflictionHits(filter: {hitKind: OPERATION}) { nodes { otherAgency otherRecordId contact } } }",
    )
    assert {"otherAgency": "EULEX", "otherRecordId": None} in [
        {k: h[k] for k in ("otherAgency", "otherRecordId")}
        for h in hits["data"]["deconflictionHits"]["nodes"]
    ]


# --- acknowledge and resolve ------------------------------------------------------


async def test_hit_lifecycle_is_audited(client: httpx.AsyncClient, db_url: str) -> None:
    hit = (await _hits(client, "kfor.j2", hit_kind="operation"))[0]
    url = f"/api/v1/deconfliction-hits/{hit['id']}"
    assert (await client.post(f"{url}/acknowledge", headers=auth("unmik.chief"))).status_code == 404
    acked = await client.post(f"{url}/acknowledge", headers=auth("kfor.j2"))
    assert acked.status_code == 200
    assert (acked.json()["status"], acked.json()["acknowledged_by"]) == ("acknowledged", "kfor.j2")
    assert (await client.post(f"{url}/acknowledge", headers=auth("kfor.j2"))).status_code == 409
    bad = await client.post(f"{url}/resolve", json={"outcome": "shrug"}, headers=auth("kfor.j2"))
    assert bad.status_code == 422
    assert "outcome" in bad.text
    done = await client.post(
        f"{url}/resolve",
        json={"outcome": "operation_deconflicted", "note": "Raid moved to 14 June after call with KOCB"},
        headers=auth("kfor.j2"),
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"]) == ("resolved", "operation_deconflicted")
    assert (
        await client.post(f"{url}/resolve", json={"outcome": "other"}, headers=auth("kfor.j2"))
    ).status_code == 409
    # UNMIK's side is its own: still open, and KFOR's note is not on it.
    unmik = (await _hits(client, "unmik.chief", hit_kind="operation"))[0]
    assert unmik["status"] == "open"
    assert unmik["outcome_note"] == ""
    audit = await client.get(
        "/api/v1/audit-events", params={"action": "deconfliction.resolve"}, headers=auth("unmik.chief")
    )
    # The entry sits under KFOR's raid, which UNMIK may not read: UNMIK's auditor does not see it.
    assert audit.json()["items"] == []
    rows = [r for r in await audit_rows(db_url) if r.action.startswith("deconfliction.")]
    mine = [r for r in rows if r.action in ("deconfliction.acknowledge", "deconfliction.resolve")]
    assert [(r.action, r.actor_name.endswith("(kfor.j2)")) for r in mine] == [
        ("deconfliction.acknowledge", True),
        ("deconfliction.resolve", True),
    ]
    assert mine[-1].after is not None
    assert mine[-1].after["outcome"] == "operation_deconflicted"
    # Neither the note nor the other agency appears in any hit entry.
    assert all("KOCB" not in json.dumps([r.detail, r.after]) for r in rows)
    assert all("UNMIK" not in r.detail for r in rows)


async def _feed(client: httpx.AsyncClient, login: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/notifications", params=params, headers=auth(login))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_selector_added_by_an_update_hits(client: httpx.AsyncClient) -> None:
    created = await _entity(client, "omik.adviser", "Taxi owner", [("name", "Luan Berisha")])
    assert [h for h in await _hits(client, "omik.adviser") if h["record_id"] == created["id"]] == []
    await _entity(client, "unodc.expert", "Courier", [("vehicle_plate", "PR 055-KX")])
    updated = await client.patch(
        f"/api/v1/entities/{created['id']}",
        json={
            "selectors": [
                {"kind": "name", "value": "Luan Berisha"},
                {"kind": "vehicle_plate", "value": "pr055kx"},
            ]
        },
        headers=auth("omik.adviser"),
    )
    assert updated.status_code == 200, updated.text
    mine = [h for h in await _hits(client, "omik.adviser") if h["record_id"] == created["id"]]
    assert [(h["other_agency"], h["match_kind"]) for h in mine] == [("UNODC", "vehicle_plate")]
    # Saving the same selectors again raises nothing new.
    await client.patch(
        f"/api/v1/entities/{created['id']}",
        json={"selectors": [{"kind": "vehicle_plate", "value": "PR-055-KX"}]},
        headers=auth("omik.adviser"),
    )
    assert len([h for h in await _hits(client, "omik.adviser") if h["record_id"] == created["id"]]) == 1


async def test_hit_counts_on_operations_are_for_the_hits_readers_only(client: httpx.AsyncClient) -> None:
    # unmik.analyst reads UNMIK's surveillance but is not among those the hit is for.
    ops = await client.get("/api/v1/planned-operations", headers=auth("unmik.analyst"))
    surveillance = next(o for o in ops.json()["items"] if o["operation_kind"] == "surveillance")
    assert surveillance["hits"] == 0
    chief = await client.get(f"/api/v1/planned-operations/{surveillance['id']}", headers=auth("unmik.chief"))
    assert chief.json()["hits"] == 1
    # EULEX reads it too (released to EULEX), and has no side of that hit.
    eulex = await client.get(f"/api/v1/planned-operations/{surveillance['id']}", headers=auth("eulex.chief"))
    assert eulex.status_code == 200
    assert eulex.json()["hits"] == 0


async def test_a_changed_plan_is_deconflicted_again(client: httpx.AsyncClient) -> None:
    eulex = (await _operation(client, "eulex.chief")).json()
    later = await _operation(
        client,
        "kfor.j2",
        starts_at=(T0 + timedelta(days=2)).isoformat(),
        ends_at=(T0 + timedelta(days=2, hours=3)).isoformat(),
    )
    assert later.json()["hits"] == 0
    url = f"/api/v1/planned-operations/{later.json()['id']}"
    # Not KFOR's? Not changeable; not readable? Not found.
    assert (
        await client.patch(url, json={"status": "cancelled"}, headers=auth("eulex.chief"))
    ).status_code == 404
    backwards = await client.patch(url, json={"ends_at": T0.isoformat()}, headers=auth("kfor.j2"))
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["field"] == "ends_at"
    moved = await client.patch(
        url,
        json={
            "starts_at": (T0 + timedelta(hours=1)).isoformat(),
            "ends_at": (T0 + timedelta(hours=2)).isoformat(),
        },
        headers={**auth("kfor.j2"), "If-Match": later.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["hits"] == 1
    eulex_side = await _hits(client, "eulex.chief", hit_kind="operation")
    assert [(h["other_agency"], h["record_id"]) for h in eulex_side] == [("KFOR", eulex["id"])]
    stale = await client.patch(
        url, json={"title": "x"}, headers={**auth("kfor.j2"), "If-Match": later.headers["ETag"]}
    )
    assert stale.status_code == 412
    # Moving again over the same ground repeats nothing.
    again = await client.patch(url, json={"radius_m": 300}, headers=auth("kfor.j2"))
    assert again.json()["hits"] == 1
    assert len(await _hits(client, "eulex.chief", hit_kind="operation")) == 1
    # A cancelled operation is not deconflicted.
    cancelled = await client.patch(url, json={"status": "cancelled"}, headers=auth("kfor.j2"))
    assert cancelled.json()["status"] == "cancelled"
    fresh = await _operation(client, "unmik.chief", starts_at=(T0 + timedelta(hours=1)).isoformat())
    assert fresh.json()["hits"] == 1  # EULEX's only; KFOR's is cancelled
