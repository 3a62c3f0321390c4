"""STIX 2.1: valid bundles, sharing respected on export, markings never widened on import,
and a round trip into a second installation."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from stix2validator import ValidationOptions, validate_string

from ocpo_coord.app import create_app
from ocpo_coord.models.enums import Tlp
from ocpo_coord.stix.ids import OCPO_EXTENSION
from ocpo_coord.stix.markings import TLP2_IDS
from tests.conftest import auth, gql

KFOR_MOTEL = "INTREP 08-0412"
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


@pytest.fixture
async def second_installation(other_db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another installation: its own database, same agencies, none of the first one's records."""
    application = create_app(database_url=other_db_url)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as http:
        yield http
    await application.state.sessionmaker.kw["bind"].dispose()


async def _intel(client: httpx.AsyncClient, login: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/intel-items", params={"limit": "100", **params}, headers=auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _item(client: httpx.AsyncClient, login: str, title_part: str) -> dict[str, Any]:
    return next(i for i in await _intel(client, login, text=title_part) if title_part in i["title"])


async def _entity(client: httpx.AsyncClient, login: str, label: str) -> dict[str, Any]:
    response = await client.get("/api/v1/entities", params={"text": label}, headers=auth(login))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = next(e for e in response.json()["items"] if e["label"] == label)
    return found


def _valid(bundle_text: str) -> dict[str, Any]:
    results = validate_string(bundle_text, ValidationOptions(version="2.1"))
    errors = [str(e) for e in results.errors]
    assert results.is_valid, errors
    assert not errors
    bundle: dict[str, Any] = json.loads(bundle_text)
    return bundle


def _reports(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == "report"]


async def test_one_item_exports_as_a_valid_bundle_with_markings_and_grading(
    client: httpx.AsyncClient,
) -> None:
    item = await _item(client, "kfor.j2", KFOR_MOTEL)
    response = await client.get(f"/api/v1/intel-items/{item['id']}/stix", headers=auth("kfor.j2"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/stix+json")
    bundle = _valid(response.text)
    (report,) = _reports(bundle)
    assert report["id"] == f"report--{item['id']}"
    assert report["name"] == item["title"]
    assert report["description"] == item["content"]
    assert report["confidence"] == 70  # credibility 2, STIX Appendix A
    ext = report["extensions"][OCPO_EXTENSION]
    assert (ext["grading"], ext["source_reliability"], ext["information_credibility"]) == ("B2", "B", "2")
    assert (ext["classification"], ext["tlp"], ext["orcon"], ext["nohost"]) == (
        "CONFIDENTIAL",
        "AMBER+STRICT",
        True,
        True,
    )
    assert ext["releasable_to"] == ["UNMIK"]
    assert TLP2_IDS[Tlp.AMBER_STRICT] in report["object_marking_refs"]
    definitions = {o["id"]: o for o in bundle["objects"] if o["type"] == "marking-definition"}
    statements = [
        definitions[r]["definition"]["statement"]
        for r in report["object_marking_refs"]
        if definitions[r].get("definition_type") == "statement"
    ]
    assert statements == ["CONFIDENTIAL//ORCON//NOHOST"]
    tlp = definitions[TLP2_IDS[Tlp.AMBER_STRICT]]
    assert (
        tlp["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"]
        == "amber+strict"
    )
    # Linked entities and cases come along, as SDOs the report and grouping refer to.
    by_id = {o["id"]: o for o in bundle["objects"]}
    assert any(by_id[r]["type"] == "location" for r in report["object_refs"])
    (grouping,) = [o for o in bundle["objects"] if o["type"] == "grouping"]
    assert report["id"] in grouping["object_refs"]


async def test_export_holds_only_what_the_reader_may_read(client: httpx.AsyncClient) -> None:
    # UNMIK may read KFOR's motel report (released to UNMIK), not KFOR's case it hangs off.
    kfor_item = await _item(client, "kfor.j2", KFOR_MOTEL)
    kfor_case_ids = kfor_item["case_ids"]
    for login in ("unmik.analyst", "kp.investigator", "eulex.prosecutor"):
        readable = {i["id"] for i in await _intel(client, login)}
        response = await client.get("/api/v1/stix/bundle", params={"limit": "1000"}, headers=auth(login))
        assert response.status_code == 200, response.text
        bundle = _valid(response.text)
        exported = {r["id"].removeprefix("report--") for r in _reports(bundle)}
        assert exported == readable, login
        for case_id in kfor_case_ids:
            assert case_id not in response.text
        if kfor_item["id"] not in readable:
            assert kfor_item["id"] not in response.text
            missing = await client.get(f"/api/v1/intel-items/{kfor_item['id']}/stix", headers=auth(login))
            assert missing.status_code == 404
    # NOHOST never reaches the host-nation police.
    kp = await client.get("/api/v1/stix/bundle", headers=auth("kp.investigator"))
    assert '"nohost": true' not in kp.text.replace('"nohost":true', '"nohost": true')


async def test_case_export_is_404_when_the_case_is_not_readable(client: httpx.AsyncClient) -> None:
    item = await _item(client, "kfor.j2", KFOR_MOTEL)
    (case_id,) = item["case_ids"]
    response = await client.get(
        "/api/v1/stix/bundle", params={"case_id": case_id}, headers=auth("unmik.analyst")
    )
    assert response.status_code == 404
    ok = await client.get("/api/v1/stix/bundle", params={"case_id": case_id}, headers=auth("kfor.j2"))
    assert ok.status_code == 200
    assert item["id"] in ok.text


async def test_export_is_audited_per_record(client: httpx.AsyncClient) -> None:
    item = await _item(client, "kfor.j2", KFOR_MOTEL)
    await client.get(f"/api/v1/intel-items/{item['id']}/stix", headers=auth("unmik.analyst"))
    events = await client.get(
        "/api/v1/audit-events",
        params={"record_id": item["id"], "action": "intel_item.export"},
        headers=auth("unmik.chief"),
    )
    assert events.status_code == 200, events.text
    assert events.json()["items"][0]["actor_name"].endswith("(unmik.analyst)")


async def test_round_trip_into_a_second_installation(
    client: httpx.AsyncClient, second_installation: httpx.AsyncClient
) -> None:
    # UNMIK exports what it may read of KOS; UNMIK's user in the other installation imports it.
    originals = {i["id"]: i for i in await _intel(client, "unmik.analyst", theatre="KOS")}
    exported = await client.get(
        "/api/v1/stix/bundle", params={"theatre": "KOS"}, headers=auth("unmik.analyst")
    )
    bundle = _valid(exported.text)
    imported = await second_installation.post(
        "/api/v1/stix/import",
        json=bundle,
        params={"source": "ocpo-unmik-kosovo"},
        headers=auth("unmik.analyst"),
    )
    assert imported.status_code == 200, imported.text
    result = imported.json()
    assert result["source"] == "ocpo-unmik-kosovo"
    assert len(result["created"]) == len(originals)
    assert result["already_imported"] == []
    for entry in result["created"]:
        original = originals[entry["stix_id"].removeprefix("report--")]
        copy = (
            await second_installation.get(f"/api/v1/intel-items/{entry['id']}", headers=auth("unmik.analyst"))
        ).json()
        for key in (
            "title",
            "content",
            "information_date",
            "source_reliability",
            "information_credibility",
            "grading",
            "source_description",
            "theatre",
        ):
            assert copy[key] == original[key], key
        for key in ("classification", "orcon", "nohost", "originator_agency"):
            assert copy["markings"][key] == original["markings"][key], key
        # AMBER received from another originator is held AMBER+STRICT: no agreement reaches it.
        foreign_amber = (
            original["markings"]["tlp"] == "AMBER" and original["markings"]["originator_agency"] != "UNMIK"
        )
        assert copy["markings"]["tlp"] == ("AMBER+STRICT" if foreign_amber else original["markings"]["tlp"])
        assert copy["markings"]["owner_agency"] == "UNMIK"
        assert copy["markings"]["releasable_to"] == []  # never recreated: the owner decides again
        assert entry["stix_id"] in copy["markings"]["provenance"]
        assert "ocpo-unmik-kosovo" in copy["markings"]["provenance"]
    # Linked entities come along with their selectors, under the same marking rules.
    original_entity = await _entity(client, "unmik.analyst", "KRASNIQI Agim")
    copied_entity = await _entity(second_installation, "unmik.analyst", "KRASNIQI Agim")
    for key in ("entity_kind", "label", "attributes", "selectors"):
        assert copied_entity[key] == original_entity[key], key
    for key in ("classification", "orcon", "nohost", "originator_agency"):
        assert copied_entity["markings"][key] == original_entity["markings"][key], key
    assert copied_entity["markings"]["tlp"] == "AMBER+STRICT"  # INTERPOL's AMBER, now held by UNMIK
    diffusion = next(e for e in result["created"] if "KRASNIQI" in e["title"].upper())
    assert {link["record_id"] for link in copied_entity["links"]} == {diffusion["id"]}
    # Same bundle again: nothing new.
    again = await second_installation.post("/api/v1/stix/import", json=bundle, headers=auth("unmik.analyst"))
    assert again.status_code == 200
    assert again.json()["created"] == []
    assert len(again.json()["already_imported"]) == len(originals)
    # KFOR's ORCON report keeps KFOR as originator: UNMIK may not widen it over there either.
    motel = next(e for e in result["created"] if KFOR_MOTEL in e["title"])
    widen = await second_installation.patch(
        f"/api/v1/intel-items/{motel['id']}",
        json={
            "markings": {
                "classification": "CONFIDENTIAL",
                "tlp": "AMBER",
                "releasable_to": ["EULEX"],
                "orcon": True,
                "nohost": True,
            }
        },
        headers=auth("unmik.analyst"),
    )
    assert widen.status_code == 403
    assert "ORCON" in widen.json()["detail"]["message"]
    # Nobody over there reads an imported item they could not read in the first installation.
    origin_of = {e["id"]: e["stix_id"].removeprefix("report--") for e in result["created"]}
    for login in ("eulex.prosecutor", "kfor.j2", "kp.investigator", "interpol.liaison"):
        there = {origin_of[i["id"]] for i in await _intel(second_installation, login) if i["id"] in origin_of}
        here = {i["id"] for i in await _intel(client, login)}
        assert there <= here, (login, [originals[i] for i in there - here])


def _foreign_bundle(
    *, refs: list[str], extra: list[dict[str, Any]] | None = None, **report: Any
) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "created": "2008-05-01T00:00:00.000Z",
                "modified": "2008-05-01T00:00:00.000Z",
                "name": "Partner fusion cell",
                "identity_class": "system",
            },
            {
                "type": "report",
                "spec_version": "2.1",
                "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
                "created": "2008-05-02T08:00:00.000Z",
                "modified": "2008-05-02T08:00:00.000Z",
                "name": "Fuel trucks crossing Gate 1 at night",
                "description": "Observed <b>six</b> tankers without manifests.",
                "published": "2008-05-01T00:00:00Z",
                "report_types": ["threat-report"],
                "object_refs": ["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
                "object_marking_refs": refs,
                **report,
            },
            *(extra or []),
        ],
    }


def _statement(text: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--0b1fa3a4-6c4b-4f3f-9e4e-6e7e0f4d2c11",
        "created": "2008-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": text},
    }


async def _import_one(client: httpx.AsyncClient, login: str, bundle: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/stix/import", json=bundle, params={"theatre": "KOS"}, headers=auth(login)
    )
    assert response.status_code == 200, response.text
    (created,) = response.json()["created"]
    item = await client.get(f"/api/v1/intel-items/{created['id']}", headers=auth(login))
    assert item.status_code == 200
    body: dict[str, Any] = item.json()
    return body


async def test_import_without_markings_takes_the_most_restrictive_default(client: httpx.AsyncClient) -> None:
    item = await _import_one(client, "eulex.prosecutor", _foreign_bundle(refs=[], confidence=72))
    assert item["markings"]["tlp"] == "AMBER+STRICT"
    assert item["markings"]["classification"] == "CONFIDENTIAL"  # the importer's clearance
    assert (item["source_reliability"], item["information_credibility"]) == ("F", "2")
    assert "Partner fusion cell" in item["markings"]["provenance"]
    assert (
        await client.get(f"/api/v1/intel-items/{item['id']}", headers=auth("unmik.analyst"))
    ).status_code == 404


async def test_import_keeps_the_narrowest_of_conflicting_markings(client: httpx.AsyncClient) -> None:
    bundle = _foreign_bundle(
        refs=[TLP1_GREEN, TLP2_IDS[Tlp.RED], "marking-definition--0b1fa3a4-6c4b-4f3f-9e4e-6e7e0f4d2c11"],
        extra=[_statement("RESTRICTED // NOHOST")],
    )
    item = await _import_one(client, "eulex.prosecutor", bundle)
    assert (item["markings"]["tlp"], item["markings"]["classification"], item["markings"]["nohost"]) == (
        "RED",
        "RESTRICTED",
        True,
    )


async def test_import_of_an_unreadable_marking_is_red(client: httpx.AsyncClient) -> None:
    bundle = _foreign_bundle(
        refs=[TLP2_IDS[Tlp.CLEAR], "marking-definition--1d9a52c3-0e0a-4d6f-8f0b-5d1e7f2a9b33"]
    )
    item = await _import_one(client, "eulex.prosecutor", bundle)
    assert item["markings"]["tlp"] == "RED"


async def test_import_refuses_what_the_importer_may_not_hold(client: httpx.AsyncClient) -> None:
    secret = _foreign_bundle(
        refs=[TLP2_IDS[Tlp.GREEN], "marking-definition--0b1fa3a4-6c4b-4f3f-9e4e-6e7e0f4d2c11"],
        extra=[_statement("SECRET")],
    )
    response = await client.post(
        "/api/v1/stix/import", json=secret, params={"theatre": "KOS"}, headers=auth("eulex.prosecutor")
    )
    assert response.status_code == 422
    assert "SECRET, above your clearance" in response.json()["detail"]["message"]
    nohost = _foreign_bundle(
        refs=["marking-definition--0b1fa3a4-6c4b-4f3f-9e4e-6e7e0f4d2c11"],
        extra=[_statement("RESTRICTED//NOHOST")],
    )
    response = await client.post(
        "/api/v1/stix/import", json=nohost, params={"theatre": "KOS"}, headers=auth("kp.investigator")
    )
    assert response.status_code == 422
    assert "NOHOST" in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ({"type": "report"}, "is not a STIX bundle"),
        (
            {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []},
            "non-empty list",
        ),
        (_foreign_bundle(refs=[], published="yesterday"), "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"),
        (
            {
                "type": "bundle",
                "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                "objects": [_statement("SECRET")],
            },
            "no report or note",
        ),
    ],
)
async def test_a_bad_bundle_is_refused_naming_the_problem(
    client: httpx.AsyncClient, bundle: dict[str, Any], message: str
) -> None:
    before = len(await _intel(client, "eulex.prosecutor"))
    response = await client.post(
        "/api/v1/stix/import", json=bundle, params={"theatre": "KOS"}, headers=auth("eulex.prosecutor")
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]["message"]
    assert len(await _intel(client, "eulex.prosecutor")) == before


async def test_graphql_returns_the_same_bundle_shape(client: httpx.AsyncClient) -> None:
    item = await _item(client, "kfor.j2", KFOR_MOTEL)
    body = await gql(
        client,
        "kfor.j2",
        "query($id: ID) { stixBundle(intelId: $id) }",
        {"id": item["id"]},
    )
    assert "errors" not in body, body
    bundle = _valid(body["data"]["stixBundle"])
    assert [r["id"] for r in _reports(bundle)] == [f"report--{item['id']}"]
    refused = await gql(client, "kfor.j2", "{ stixBundle(first: 0) }")
    assert refused["errors"][0]["message"] == "must be between 1 and 1000"


async def test_a_foreign_person_comes_in_as_an_entity_and_the_system_does_not(
    client: httpx.AsyncClient,
) -> None:
    person = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--4b0a1f0e-2a57-4a8e-9d7e-0c3b2f6a1d55",
        "created": "2008-05-01T00:00:00.000Z",
        "modified": "2008-05-01T00:00:00.000Z",
        "name": "Dragan Haulier",
        "identity_class": "individual",
    }
    bundle = _foreign_bundle(refs=[], extra=[person])
    bundle["objects"][1]["object_refs"] = [person["id"], "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]
    item = await _import_one(client, "eulex.prosecutor", bundle)
    entity = await _entity(client, "eulex.prosecutor", "Dragan Haulier")
    assert entity["entity_kind"] == "person"
    assert entity["markings"]["tlp"] == "AMBER+STRICT"
    assert [link["record_id"] for link in entity["links"]] == [item["id"]]
    systems = await client.get(
        "/api/v1/entities", params={"text": "Partner fusion cell"}, headers=auth("eulex.prosecutor")
    )
    assert systems.json()["items"] == []


async def test_statements_of_other_schemes_are_read_upwards(client: httpx.AsyncClient) -> None:
    ref = "marking-definition--0b1fa3a4-6c4b-4f3f-9e4e-6e7e0f4d2c11"
    strictly = _foreign_bundle(refs=[ref], extra=[_statement("UN STRICTLY CONFIDENTIAL")])
    item = await _import_one(client, "eulex.chief", strictly)
    assert item["markings"]["classification"] == "SECRET"
    top = _foreign_bundle(refs=[ref], extra=[_statement("COSMIC TOP SECRET")])
    top["objects"][1]["id"] = "report--0c3d1e55-8a7b-4c1d-9e2f-3a4b5c6d7e8f"
    response = await client.post(
        "/api/v1/stix/import", json=top, params={"theatre": "KOS"}, headers=auth("eulex.chief")
    )
    assert response.status_code == 422
    assert "above any classification held here" in response.json()["detail"]["message"]


async def test_a_colleagues_red_import_is_neither_named_nor_updated_by_importing_it_again(
    client: httpx.AsyncClient,
) -> None:
    # The prosecutor's TLP:RED import is read by the prosecutor alone; the chief of the
    # same agency importing the same object learns nothing of it and changes nothing.
    bundle = _foreign_bundle(refs=[TLP2_IDS[Tlp.RED]])
    item = await _import_one(client, "eulex.prosecutor", bundle)
    assert item["markings"]["tlp"] == "RED"
    later = _foreign_bundle(refs=[TLP2_IDS[Tlp.RED]], modified="2008-06-01T00:00:00.000Z", name="Changed")
    for again in (bundle, later):
        response = await client.post(
            "/api/v1/stix/import", json=again, params={"theatre": "KOS"}, headers=auth("eulex.chief")
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert item["id"] not in response.text
        assert answer["created"] == answer["updated"] == answer["already_imported"] == []
    assert (
        await client.get(f"/api/v1/intel-items/{item['id']}", headers=auth("eulex.chief"))
    ).status_code == 404
    kept = await client.get(f"/api/v1/intel-items/{item['id']}", headers=auth("eulex.prosecutor"))
    assert kept.json()["title"] == item["title"]
