"""STIX import is idempotent by STIX id and object version: the same bundle twice creates
nothing the second time, a later ``modified`` updates, and an installation's own export
imported back into it copies nothing."""

import copy
from typing import Any

import httpx

from tests.conftest import auth

LOGIN = "unmik.analyst"


def report(stix_id: str, modified: str, title: str) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2026-10-01T08:00:00.000Z",
        "modified": modified,
        "name": title,
        "description": f"{title}: a white Iveco crossed at Jarinje after midnight.",
        "published": "2026-10-01T08:00:00.000Z",
        "report_types": ["threat-report"],
        "object_refs": ["identity--0f6f6f4e-5a8c-4a0c-9a0e-3d1b4e2c7a10"],
        "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],  # TLP:AMBER
    }


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--6f1f3d8e-2a55-4b4b-9c77-0c6a1d2e9f30",
        "objects": [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": "identity--0f6f6f4e-5a8c-4a0c-9a0e-3d1b4e2c7a10",
                "created": "2026-10-01T08:00:00.000Z",
                "modified": "2026-10-01T08:00:00.000Z",
                "name": "Border police liaison",
                "identity_class": "organization",
            },
            *objects,
        ],
    }


REPORT_ID = "report--3c9e2b7a-8f41-4d6e-b1a2-5e7c9d0f1a24"


async def _import(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/stix/import",
        json=body,
        params={"theatre": "KOS", "source": "partner-misp"},
        headers=auth(LOGIN),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _count(client: httpx.AsyncClient) -> int:
    response = await client.get("/api/v1/intel-items", params={"limit": 100}, headers=auth(LOGIN))
    return len(response.json()["items"])


async def test_the_same_bundle_twice_creates_nothing_the_second_time(client: httpx.AsyncClient) -> None:
    body = bundle(report(REPORT_ID, "2026-10-01T08:00:00.000Z", "Fuel tankers at Jarinje"))
    first = await _import(client, body)
    assert [e["stix_id"] for e in first["created"]] == [REPORT_ID]
    count = await _count(client)
    again = await _import(client, copy.deepcopy(body))
    assert again["created"] == []
    assert again["updated"] == []
    assert [e["id"] for e in again["already_imported"]] == [first["created"][0]["id"]]
    assert await _count(client) == count


async def test_a_later_modified_updates_and_an_earlier_one_does_not(client: httpx.AsyncClient) -> None:
    first = await _import(client, bundle(report(REPORT_ID, "2026-10-01T08:00:00.000Z", "Fuel tankers")))
    item_id = first["created"][0]["id"]
    newer = await _import(
        client, bundle(report(REPORT_ID, "2026-10-05T12:00:00.000Z", "Fuel tankers, second sighting"))
    )
    assert [e["id"] for e in newer["updated"]] == [item_id]
    assert newer["created"] == []
    item = (await client.get(f"/api/v1/intel-items/{item_id}", headers=auth(LOGIN))).json()
    assert item["title"] == "Fuel tankers, second sighting"
    assert item["markings"]["tlp"] == "AMBER+STRICT"  # markings are not touched by an update
    older = await _import(client, bundle(report(REPORT_ID, "2026-10-03T00:00:00.000Z", "Stale copy")))
    assert older["updated"] == []
    assert [e["id"] for e in older["already_imported"]] == [item_id]
    item = (await client.get(f"/api/v1/intel-items/{item_id}", headers=auth(LOGIN))).json()
    assert item["title"] == "Fuel tankers, second sighting"
    audit = await client.get(
        "/api/v1/audit-events",
        params={"record_id": item_id, "action": "intel_item.import_update"},
        headers=auth("unmik.chief"),
    )
    if audit.status_code == 200:  # auditors only; the chief is one in the demo
        assert len(audit.json()["items"]) == 1


async def test_an_installation_s_own_export_imported_back_copies_nothing(client: httpx.AsyncClient) -> None:
    count = await _count(client)
    exported = await client.get("/api/v1/stix/bundle", params={"theatre": "KOS"}, headers=auth(LOGIN))
    assert exported.status_code == 200
    result = await _import(client, exported.json())
    assert result["created"] == []
    assert result["already_imported"]
    assert await _count(client) == count
