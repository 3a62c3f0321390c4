"""TAXII 2.1, driven by OASIS's ``taxii2-client`` against the real service (uvicorn on a
loopback port, in a thread): discovery, collections, objects with their filters and
pages, manifest, versions, the POST of an envelope and its status. A reader gets exactly
what the sharing rules let them read; anything else answers 404 as a missing object."""

import json
import uuid
from typing import Any

import httpx
import pytest
import requests
from sqlmodel import Session, col, select
from stix2validator import ValidationOptions, validate_string
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.models import AuditEvent
from tests.conftest import auth, token_for

TAXII = "application/taxii+json;version=2.1"


class Bearer(requests.auth.AuthBase):
    """The service's bearer token on every request the TAXII client sends."""

    def __init__(self, login: str) -> None:
        self.token = token_for(login)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _kosovo(base_url: str, login: str) -> Collection:
    server = Server(f"{base_url}/taxii2/", auth=Bearer(login))
    (root,) = server.api_roots
    assert server.default is not None
    assert server.default.url == root.url
    (collection,) = [c for c in root.collections if c.title.startswith("Kosovo")]
    assert collection.can_read
    return collection


def _all_objects(collection: Collection, per_request: int = 2, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=per_request, **filters):
        found.extend(envelope.get("objects", []))
    return found


def _all_manifest(collection: Collection, per_request: int = 2) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_manifest, per_request=per_request):
        found.extend(envelope.get("objects", []))
    return found


def _readable_intel(base_url: str, login: str) -> set[str]:
    """The reader's Kosovo intelligence, as the REST list gives it."""
    ids: set[str] = set()
    params: dict[str, str] = {"limit": "100", "theatre": "KOS"}
    while True:
        response = httpx.get(f"{base_url}/api/v1/intel-items", params=params, headers=auth(login))
        assert response.status_code == 200, response.text
        body = response.json()
        ids |= {item["id"] for item in body["items"]}
        if not body.get("next_cursor"):
            return ids
        params["after"] = body["next_cursor"]


def _valid(obj: dict[str, Any]) -> None:
    results = validate_string(json.dumps(obj), ValidationOptions(version="2.1"))
    assert results.is_valid, [str(e) for e in results.errors]


def test_a_reader_pulls_exactly_the_intelligence_they_may_read(base_url: str) -> None:
    for login in ("unmik.analyst", "kfor.j2", "kp.investigator"):
        collection = _kosovo(base_url, login)
        objects = _all_objects(collection)
        ids = [o["id"] for o in objects]
        assert len(ids) == len(set(ids)), "a page repeated an object"
        assert {i.removeprefix("report--") for i in ids} == _readable_intel(base_url, login), login
        for obj in objects:
            assert obj["type"] == "report"
            _valid(obj)
        manifest = _all_manifest(collection, per_request=3)
        assert [m["id"] for m in manifest] == ids
        by_id = {o["id"]: o for o in objects}
        for entry in manifest:
            assert entry["version"] == by_id[entry["id"]]["modified"]
            assert entry["media_type"] == "application/stix+json;version=2.1"
        dates = [m["date_added"] for m in manifest]
        assert dates == sorted(dates)


def _reads_of(db_url: str, record_id: str) -> list[str]:
    """The audit entries that name the record as read, in order: single reads and pages."""
    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.action).in_(["intel_item.read", "intel_item.list"]))
                .order_by(col(AuditEvent.seq))
            ).all()
    finally:
        engine.dispose()
    return [
        f"{row.action} {row.detail}"
        for row in rows
        if str(row.record_id) == record_id or record_id in (row.record_ids or [])
    ]


def test_a_restricted_record_is_absent_for_a_non_member_as_a_missing_one(base_url: str, db_url: str) -> None:
    # RESTRICTED, TLP:AMBER, released to nobody: UNMIK's own.
    body: dict[str, Any] = {
        "title": "Safe house used by the Drenica network",
        "content": "Not released to anyone.",
        "information_date": "2026-11-01",
        "theatre": "KOS",
        "source_reliability": "B",
        "information_credibility": "2",
        "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
    }
    created = httpx.post(f"{base_url}/api/v1/intel-items", json=body, headers=auth("unmik.analyst"))
    assert created.status_code == 201, created.text
    stix_id = f"report--{created.json()['id']}"
    missing_id = f"report--{uuid.uuid4()}"

    owner = _kosovo(base_url, "unmik.analyst")
    assert stix_id in {o["id"] for o in _all_objects(owner)}
    assert stix_id in {m["id"] for m in _all_manifest(owner)}
    audited = _reads_of(db_url, created.json()["id"])
    (mine,) = owner.get_object(stix_id)["objects"]
    assert _reads_of(db_url, created.json()["id"])[len(audited) :] == [
        "intel_item.read RESTRICTED TLP:AMBER over TAXII"
    ]
    assert len(audited) >= 2  # the objects and the manifest pages that carried it
    assert mine["name"] == body["title"]
    assert owner.object_versions(stix_id)["versions"] == [mine["modified"]]

    outsider = _kosovo(base_url, "kfor.j2")
    assert outsider.id == owner.id  # the same theatre's collection
    assert stix_id not in {o["id"] for o in _all_objects(outsider)}
    assert stix_id not in {m["id"] for m in _all_manifest(outsider)}
    assert outsider.get_objects(id=stix_id).get("objects", []) == []
    answers = []
    for wanted in (stix_id, missing_id):
        for call in (outsider.get_object, outsider.object_versions):
            with pytest.raises(requests.HTTPError) as refused:
                call(wanted)
            response = refused.value.response
            assert response.headers["content-type"] == TAXII
            answers.append((response.status_code, response.json()["title"], response.json()["http_status"]))
    assert answers == [(404, "Not found", "404")] * 4
    assert body["title"] not in json.dumps(_all_objects(outsider))


def test_filters_pages_and_date_headers_follow_taxii(base_url: str) -> None:
    collection = _kosovo(base_url, "unmik.analyst")
    everything = _all_manifest(collection, per_request=100)
    assert len(everything) >= 4
    first = collection.get_objects(limit=2)
    assert first["more"] is True
    assert len(first["objects"]) == 2
    headers = _headers(base_url, collection.url + "objects/", "unmik.analyst", {"limit": "2"})
    assert headers["X-TAXII-Date-Added-First"] == everything[0]["date_added"]
    assert headers["X-TAXII-Date-Added-Last"] == everything[1]["date_added"]
    second = collection.get_objects(limit=2, next=first["next"])
    assert [o["id"] for o in second["objects"]] == [m["id"] for m in everything[2:4]]
    # added_after: strictly later additions only.
    later = _all_objects(collection, per_request=50, added_after=everything[1]["date_added"])
    assert [o["id"] for o in later] == [
        m["id"] for m in everything if m["date_added"] > everything[1]["date_added"]
    ]
    # match[type], match[id], match[version].
    assert collection.get_objects(type="indicator").get("objects", []) == []
    chosen = everything[2]
    picked = collection.get_objects(id=chosen["id"], type="report")["objects"]
    assert [o["id"] for o in picked] == [chosen["id"]]
    assert [o["id"] for o in collection.get_objects(version=chosen["version"])["objects"]] == [
        m["id"] for m in everything if m["version"] == chosen["version"]
    ]
    assert collection.get_object(chosen["id"], version="2001-01-01T00:00:00.000Z").get("objects", []) == []
    assert [o["id"] for o in collection.get_object(chosen["id"], version="last")["objects"]] == [chosen["id"]]


def _headers(base_url: str, url: str, login: str, params: dict[str, str]) -> httpx.Headers:
    response = httpx.get(url, params=params, headers={**auth(login), "Accept": TAXII})
    assert response.status_code == 200, response.text
    return response.headers


def _report(name: str, modified: str) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--6b3c2d1e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "created": "2026-11-20T10:00:00.000Z",
        "modified": modified,
        "name": name,
        "published": "2026-11-20T10:00:00.000Z",
        "report_types": ["threat-report"],
        "object_refs": ["identity--0a6b9c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d"],
        "created_by_ref": "identity--0a6b9c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d",
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }


IDENTITY = {
    "type": "identity",
    "spec_version": "2.1",
    "id": "identity--0a6b9c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d",
    "created": "2026-11-20T10:00:00.000Z",
    "modified": "2026-11-20T10:00:00.000Z",
    "name": "A partner's threat-intelligence platform",
    "identity_class": "organization",
}
INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "created": "2026-11-20T10:00:00.000Z",
    "modified": "2026-11-20T10:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix",
    "valid_from": "2026-11-20T10:00:00.000Z",
}


def test_a_posted_envelope_is_imported_once_and_its_status_kept(base_url: str) -> None:
    collection = _kosovo(base_url, "unmik.analyst")
    before = _readable_intel(base_url, "unmik.analyst")
    envelope = {
        "objects": [IDENTITY, _report("Fuel smuggling at Jarinje", "2026-11-20T10:00:00.000Z"), INDICATOR]
    }
    status = collection.add_objects(envelope, wait_for_completion=False)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (
        3,
        2,
        1,
        0,
    )
    assert {s["id"] for s in status.successes} == {IDENTITY["id"], envelope["objects"][1]["id"]}
    assert [f["id"] for f in status.failures] == [INDICATOR["id"]]
    added = _readable_intel(base_url, "unmik.analyst") - before
    assert len(added) == 1
    # The same envelope again creates nothing; a later version updates the item.
    again = collection.add_objects(envelope, wait_for_completion=False)
    assert again.success_count == 2
    assert _readable_intel(base_url, "unmik.analyst") - before == added
    newer = {
        "objects": [IDENTITY, _report("Fuel and cigarette smuggling at Jarinje", "2026-11-21T10:00:00.000Z")]
    }
    collection.add_objects(newer, wait_for_completion=False)
    (item_id,) = added
    item = httpx.get(f"{base_url}/api/v1/intel-items/{item_id}", headers=auth("unmik.analyst")).json()
    assert item["title"] == "Fuel and cigarette smuggling at Jarinje"
    assert _readable_intel(base_url, "unmik.analyst") - before == added
    # The status answers its poster again, and is nobody else's to read.
    status.refresh()
    assert status.success_count == 2
    assert status.url.endswith(f"/status/{status.id}/")
    stranger = httpx.get(status.url, headers={**auth("unmik.chief"), "Accept": TAXII})
    assert stranger.status_code == 404
    assert stranger.json()["http_status"] == "404"
    # A bad envelope imports nothing and says which object is wrong.
    broken = {"objects": [{**_report("Never imported", "2026-11-22T10:00:00.000Z"), "id": "report--nope"}]}
    with pytest.raises(requests.HTTPError) as refused:
        collection.add_objects(broken, wait_for_completion=False)
    assert refused.value.response.status_code == 422
    assert "report--nope" in refused.value.response.json()["description"]
    assert _readable_intel(base_url, "unmik.analyst") - before == added


def test_wrong_media_types_and_missing_tokens_get_taxii_errors(base_url: str) -> None:
    url = f"{base_url}/taxii2/intel/collections/"
    for headers, status in (
        ({"Accept": TAXII}, 401),
        ({**auth("unmik.analyst"), "Accept": "application/json"}, 406),
        ({**auth("unmik.analyst"), "Accept": "application/taxii+json;version=2.0"}, 406),
    ):
        response = httpx.get(url, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == TAXII
        error = response.json()
        assert error["http_status"] == str(status)
        assert error["title"]
    collection = _kosovo(base_url, "unmik.analyst")
    posted = httpx.post(
        collection.url + "objects/",
        content=json.dumps({"objects": [IDENTITY]}),
        headers={**auth("unmik.analyst"), "Accept": TAXII, "Content-Type": "application/json"},
    )
    assert posted.status_code == 415
    assert posted.json()["http_status"] == "415"
    too_large = httpx.post(
        collection.url + "objects/",
        content=b'{"objects": ["' + b"x" * (5 * 1024 * 1024) + b'"]}',
        headers={**auth("unmik.analyst"), "Accept": TAXII, "Content-Type": TAXII},
    )
    assert too_large.status_code == 413
    assert too_large.headers["content-type"] == TAXII
    assert too_large.json()["http_status"] == "413"
    bad_limit = httpx.get(
        collection.url + "objects/", params={"limit": "0"}, headers={**auth("unmik.analyst"), "Accept": TAXII}
    )
    assert bad_limit.status_code == 400
    assert "limit" in bad_limit.json()["description"]
    # The installation administrator reads no agency's data: no collection at all.
    assert ApiRoot(f"{base_url}/taxii2/intel/", auth=Bearer("admin")).collections == []
