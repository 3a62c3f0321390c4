"""STIX bundles in bulk: all or nothing, once, markings never widened, every hit raised,
one audit entry per record, and nobody reads afterwards what they could not before.

The visibility index of everything imported is checked against the rule when each test
ends (``index_in_step`` in conftest).
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from ocpo_coord.auth.principal import load_principal
from ocpo_coord.bench.generate_stix import stix_bundle
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.deconfliction.service import check_selectors
from ocpo_coord.models import Agency, AuditEvent, DeconflictionHit, Entity, Record, RecordRelease
from ocpo_coord.models.enums import Classification, Tlp
from ocpo_coord.stix.ids import OCPO_EXTENSION, stable_uuid
from ocpo_coord.stix.markings import TLP2_IDS
from ocpo_coord.visibility.policy import tlp_rank
from tests.conftest import auth
from tests.fixtures.queries import count_rows, rows

# Held by UNMIK, KFOR and KP (a host nation) in the demo.
SHARED_PHONE = "+377 44 218 907"
IMPORTER = "eulex.prosecutor"
IMPORTS = ("intel_item.import", "entity.import")
_TLP_OF_ID = {v: k for k, v in TLP2_IDS.items()}


def _bundle(objects: int = 120, seed: str = "bulk") -> dict[str, Any]:
    return stix_bundle(objects, seed=seed, shared=[SHARED_PHONE], theatre="KOS")


async def _import(client: httpx.AsyncClient, bundle: dict[str, Any], login: str = IMPORTER) -> httpx.Response:
    return await client.post(
        "/api/v1/stix/import", json=bundle, params={"theatre": "KOS"}, headers=auth(login)
    )


async def _counts(db_url: str) -> tuple[int, int, int]:
    return (
        await count_rows(db_url, Record),
        await count_rows(db_url, DeconflictionHit),
        await count_rows(db_url, AuditEvent),
    )


async def _new_ids(db_url: str, bundle: dict[str, Any]) -> dict[str, Any]:
    """STIX id -> the record id the importer's agency gives it."""
    [agency_id] = await rows(db_url, select(Agency.id).where(col(Agency.code) == "EULEX"))
    return {o["id"]: stable_uuid(f"import:{agency_id}:{o['id']}") for o in bundle["objects"]}


async def test_a_bad_object_in_the_middle_imports_nothing_and_is_named(
    client: httpx.AsyncClient, db_url: str
) -> None:
    bundle = _bundle()
    bad = bundle["objects"][61]
    bad["modified"] = "yesterday"
    before = await _counts(db_url)
    answer = await _import(client, bundle)
    assert answer.status_code == 422, answer.text
    body = answer.text
    assert "objects.61" in body
    assert bad["id"] in body
    assert await _counts(db_url) == before
    # A bad marking the library accepts is refused by the importer's own rules, as first.
    bundle = _bundle()
    bundle["objects"][45]["extensions"][OCPO_EXTENSION]["classification"] = "SECRET"
    answer = await _import(client, bundle)
    assert answer.status_code == 422, answer.text
    assert "objects.45" in answer.text
    assert bundle["objects"][45]["id"] in answer.text
    assert await _counts(db_url) == before


async def test_the_same_bundle_twice_creates_nothing_twice(client: httpx.AsyncClient, db_url: str) -> None:
    bundle = _bundle()
    first = await _import(client, bundle)
    assert first.status_code == 200, first.text
    assert len(first.json()["created"]) == 29
    after_first = await _counts(db_url)
    again = await _import(client, bundle)
    assert again.status_code == 200, again.text
    assert again.json()["created"] == []
    assert len(again.json()["already_imported"]) == 29
    assert await _counts(db_url) == after_first


async def test_markings_are_never_widened(client: httpx.AsyncClient, db_url: str) -> None:
    bundle = _bundle()
    assert (await _import(client, bundle)).status_code == 200
    ids = await _new_ids(db_url, bundle)
    held = {r.id: r for r in await rows(db_url, select(Record).where(col(Record.id).in_(ids.values())))}
    checked = 0
    for obj in bundle["objects"]:
        record = held.get(ids[obj["id"]])
        if record is None:
            continue
        checked += 1
        sent = _TLP_OF_ID[obj["object_marking_refs"][0]]
        # AMBER from another originator is held AMBER+STRICT: never anything wider.
        assert tlp_rank(Tlp(record.tlp)) >= tlp_rank(sent)
        if sent is Tlp.AMBER:
            assert record.tlp == Tlp.AMBER_STRICT
        named = Classification[obj["extensions"][OCPO_EXTENSION]["classification"]]
        assert record.classification >= named
    assert checked == 29 * 4
    # Releases are not recreated: the new owner may release again.
    assert await rows(db_url, select(RecordRelease).where(col(RecordRelease.record_id).in_(held))) == []


async def test_every_match_raises_its_hits_as_the_per_record_path_would(
    client: httpx.AsyncClient, db_url: str
) -> None:
    bundle = _bundle()
    before = {h.id for h in await rows(db_url, select(DeconflictionHit))}
    assert (await _import(client, bundle)).status_code == 200
    raised = [h for h in await rows(db_url, select(DeconflictionHit)) if h.id not in before]
    ids = await _new_ids(db_url, bundle)
    people = [
        ids[o["id"]]
        for o in bundle["objects"]
        if o["type"] == "identity"
        and any(
            s["value"] == SHARED_PHONE
            for s in o.get("extensions", {}).get(OCPO_EXTENSION, {}).get("selectors", [])
        )
    ]
    assert len(people) == 3
    # Three other agencies hold the number: each collision has both sides (other
    # selectors, names, may match what the demo holds too).
    phone = [h for h in raised if h.match_kind == "phone"]
    assert len(phone) == len(people) * 3 * 2
    assert {h.record_id for h in phone} - set(people) == {h.other_record_id for h in phone} - set(people)
    assert all(len([h for h in phone if h.record_id == p]) == 3 for p in people)
    # The one-entity path finds nothing left to raise for any entity imported.
    entities = [ids[o["id"]] for o in bundle["objects"] if o["type"] != "report"]
    present = set(await rows(db_url, select(Entity.id).where(col(Entity.id).in_(entities))))
    assert len(present) == 29 * 3
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            actor = Actor(principal=await load_principal(session, IMPORTER), request_id="test")
            for entity_id in sorted(present):
                assert await check_selectors(session, actor=actor, entity_id=entity_id) == 0
            await session.rollback()
    finally:
        await engine.dispose()
    entries = await rows(db_url, select(AuditEvent).where(col(AuditEvent.action) == "deconfliction.hit"))
    assert all(any(str(h.id) in e.detail and e.record_id == h.record_id for e in entries) for h in raised)


async def test_one_audit_entry_per_record_holding_what_its_reader_reads(
    client: httpx.AsyncClient, db_url: str
) -> None:
    bundle = _bundle()
    answer = await _import(client, bundle)
    assert answer.status_code == 200
    ids = await _new_ids(db_url, bundle)
    new = set(await rows(db_url, select(Record.id).where(col(Record.id).in_(ids.values()))))
    entries = await rows(db_url, select(AuditEvent).where(col(AuditEvent.action).in_(IMPORTS)))
    assert sorted(e.record_id for e in entries) == sorted(new)
    by_record = {e.record_id: e for e in entries}
    item = answer.json()["created"][0]
    read = await client.get(f"/api/v1/intel-items/{item['id']}", headers=auth(IMPORTER))
    assert read.status_code == 200
    assert by_record[ids[item["stix_id"]]].after == read.json()
    report = next(o for o in bundle["objects"] if o["id"] == item["stix_id"])
    for ref in report["object_refs"]:
        entity = await client.get(f"/api/v1/entities/{ids[ref]}", headers=auth(IMPORTER))
        assert entity.status_code == 200
        shown = entity.json()
        assert [link["record_id"] for link in shown.pop("links")] == [item["id"]]
        logged = dict(by_record[ids[ref]].after or {})
        assert logged.pop("links") == []
        assert logged == shown


@pytest.mark.parametrize(("login", "tlp"), [("kfor.j2", Tlp.AMBER), ("kp.investigator", Tlp.CLEAR)])
async def test_others_cannot_read_what_they_should_not(
    client: httpx.AsyncClient, db_url: str, login: str, tlp: Tlp
) -> None:
    """Another agency's analyst does not read what came in AMBER (held AMBER+STRICT); a
    host-nation officer does not read what came in NOHOST, even TLP:CLEAR."""
    bundle = _bundle(40, seed=f"readers-{login}")
    for obj in bundle["objects"]:
        ext = obj.get("extensions", {}).get(OCPO_EXTENSION)
        if ext is not None and "object_marking_refs" in obj:
            obj["object_marking_refs"] = [TLP2_IDS[tlp]]
            ext["classification"] = "UNCLASSIFIED"
            ext["nohost"] = tlp is Tlp.CLEAR
    assert (await _import(client, bundle)).status_code == 200
    ids = await _new_ids(db_url, bundle)
    for obj in bundle["objects"]:
        if "object_marking_refs" not in obj:
            continue
        path = "intel-items" if obj["type"] == "report" else "entities"
        mine = await client.get(f"/api/v1/{path}/{ids[obj['id']]}", headers=auth(IMPORTER))
        assert mine.status_code == 200, mine.text
        theirs = await client.get(f"/api/v1/{path}/{ids[obj['id']]}", headers=auth(login))
        assert theirs.status_code == 404, theirs.text
    listed = await client.get("/api/v1/intel-items", params={"limit": "100"}, headers=auth(login))
    assert listed.status_code == 200
    assert not {i["id"] for i in listed.json()["items"]} & {str(v) for v in ids.values()}


def test_the_command_line_imports_a_file_once_and_names_a_bad_object(db_url: str, tmp_path: Path) -> None:
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env["OCPO_STATE_DIR"] = str(tmp_path / "state")
    env["OCPO_DATABASE_URL"] = db_url

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ocpo_coord.cli", "stix", "import", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(_bundle(80, seed="cli")))
    done = run(str(good), "--as", IMPORTER, "--theatre", "KOS", "--source", "Partner cell")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        "78 objects from Partner cell: 19 items created, 0 updated, 0 already imported"
    ]
    assert "finished in" in done.stderr
    assert "write the records" in done.stderr
    again = run(str(good), "--as", IMPORTER, "--theatre", "KOS")
    assert again.returncode == 0, again.stderr
    assert "0 items created, 0 updated, 19 already imported" in again.stdout
    broken = _bundle(80, seed="cli-bad")
    broken["objects"][33]["created"] = "yesterday"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    refused = run(str(bad), "--as", IMPORTER, "--theatre", "KOS")
    assert refused.returncode == 1
    [line] = [ln for ln in refused.stderr.splitlines() if ln.startswith("ocpo-coord:")]
    assert "objects.33" in line
    assert broken["objects"][33]["id"] in line
    assert "Traceback" not in refused.stderr
    missing = run(str(tmp_path / "nothing.json"), "--as", IMPORTER)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"ocpo-coord: cannot read {tmp_path / 'nothing.json'}: No such file or directory"
    ]
