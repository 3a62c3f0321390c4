"""Selector lists in bulk: every hit raised, all or nothing, nothing twice."""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select

from ocpo_coord.models import AuditEvent, DeconflictionHit, Notification, Selector
from tests.conftest import auth, gql
from tests.fixtures.queries import count_rows, rows

# Held by UNMIK, KFOR and KP in the demo, each written its own way.
SHARED_PHONE = "+377 44 218 907"


def _phones(count: int) -> list[str]:
    return [f"+383 49 {100000 + n}" for n in range(count)]


async def _entity(client: httpx.AsyncClient, login: str = "eulex.prosecutor") -> str:
    created = await client.post(
        "/api/v1/entities",
        headers=auth(login),
        json={"entity_kind": "phone", "label": "Seized handset", "theatre": "KOS"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _held(db_url: str, entity: str) -> list[Any]:
    entity_id = uuid.UUID(entity)
    return await rows(db_url, select(Selector.normalized).where(col(Selector.entity_id) == entity_id))


async def _hits(db_url: str, entity: str) -> list[Any]:
    entity_id = uuid.UUID(entity)
    return await rows(
        db_url,
        select(DeconflictionHit).where(
            (col(DeconflictionHit.record_id) == entity_id)
            | (col(DeconflictionHit.other_record_id) == entity_id)
        ),
    )


async def test_a_contact_list_is_attached_whole_with_every_hit_and_once_only(
    client: httpx.AsyncClient, db_url: str
) -> None:
    entity_id = await _entity(client)
    values = [*_phones(400), SHARED_PHONE, "044-218-907"]  # the last two are one number
    body = {"selectors": [{"kind": "phone", "value": v} for v in values]}
    answer = await client.post(
        f"/api/v1/entities/{entity_id}/selectors", json=body, headers=auth("eulex.prosecutor")
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["received"] == 402
    assert result["added"] == 401
    assert result["already_present"] == 1
    held = await _held(db_url, entity_id)
    assert len(held) == 401
    assert "+38344218907" in held
    # The shared number meets three other agencies' entities: each collision has two
    # sides, each side its notifications and its audit entry.
    hits = await _hits(db_url, entity_id)
    assert result["hits_raised"] == len(hits) == 6
    assert {h.agency_id for h in hits} == {h.other_agency_id for h in hits}
    notices = await rows(
        db_url, select(Notification).where(col(Notification.subject_id).in_([h.id for h in hits]))
    )
    assert {n.subject_id for n in notices} == {h.id for h in hits}
    audit = await rows(db_url, select(AuditEvent).where(col(AuditEvent.action) == "deconfliction.hit"))
    assert {h.id for h in hits} <= {_hit_of(e.detail) for e in audit}
    [entry] = await rows(
        db_url,
        select(AuditEvent).where(
            col(AuditEvent.action) == "entity.selectors_add",
            col(AuditEvent.record_id) == uuid.UUID(entity_id),
        ),
    )
    assert entry.after is not None
    assert len(entry.after["added"]) == 401

    # The same list again: nothing added, no hit raised twice, no entry for nothing.
    again = await client.post(
        f"/api/v1/entities/{entity_id}/selectors", json=body, headers=auth("eulex.prosecutor")
    )
    assert again.status_code == 200, again.text
    assert again.json()["added"] == 0
    assert again.json()["already_present"] == 402
    assert again.json()["hits_raised"] == 0
    assert len(await _held(db_url, entity_id)) == 401
    assert len(await _hits(db_url, entity_id)) == 6


def _hit_of(detail: str) -> uuid.UUID:
    return uuid.UUID(detail.split()[2])


async def test_a_bad_selector_is_named_by_index_and_value_and_nothing_is_written(
    client: httpx.AsyncClient, db_url: str
) -> None:
    entity_id = await _entity(client)
    values = [*_phones(20), "---", *_phones(3)]
    audit_before = await count_rows(db_url, AuditEvent)
    answer = await client.post(
        f"/api/v1/entities/{entity_id}/selectors",
        json={"selectors": [{"kind": "phone", "value": v} for v in values]},
        headers=auth("eulex.prosecutor"),
    )
    assert answer.status_code == 422, answer.text
    text = answer.text
    assert "selectors.20.value" in text
    assert "'---'" in text
    assert await _held(db_url, entity_id) == []
    assert await count_rows(db_url, AuditEvent) == audit_before


async def test_only_the_owner_may_attach_and_a_stranger_finds_no_entity(
    client: httpx.AsyncClient, db_url: str
) -> None:
    entity_id = await _entity(client)
    body = {"selectors": [{"kind": "phone", "value": SHARED_PHONE}]}
    # TLP:AMBER, released to nobody: KFOR cannot read it, so it is not there at all.
    stranger = await client.post(
        f"/api/v1/entities/{entity_id}/selectors", json=body, headers=auth("kfor.j2")
    )
    assert stranger.status_code == 404, stranger.text
    assert await _held(db_url, entity_id) == []
    assert await _hits(db_url, entity_id) == []


async def test_graphql_attaches_through_the_same_service(client: httpx.AsyncClient, db_url: str) -> None:
    entity_id = await _entity(client)
    mutation = """
    mutation Add($input: AddEntitySelectorsInput!) {
      addEntitySelectors(input: $input) {
        __typename
        ... on EntitySelectorsAdded { received added alreadyPresent hitsRaised }
        ... on UserError { message field }
      }
    }
    """
    selectors = [{"kind": "PHONE", "value": v} for v in [*_phones(50), SHARED_PHONE]]
    body = await gql(
        client, "eulex.prosecutor", mutation, {"input": {"entityId": entity_id, "selectors": selectors}}
    )
    added = body["data"]["addEntitySelectors"]
    assert added == {
        "__typename": "EntitySelectorsAdded",
        "received": 51,
        "added": 51,
        "alreadyPresent": 0,
        "hitsRaised": 6,
    }
    bad = [*selectors[:3], {"kind": "PHONE", "value": "()"}]
    refused = await gql(
        client, "eulex.prosecutor", mutation, {"input": {"entityId": entity_id, "selectors": bad}}
    )
    error = refused["data"]["addEntitySelectors"]
    assert error["__typename"] == "InvalidInputError"
    assert error["field"] == "selectors.3.value"
    assert len(await _held(db_url, entity_id)) == 51


def test_the_command_line_reads_a_file_and_names_the_bad_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env["OCPO_STATE_DIR"] = str(tmp_path / "state")
    env["OCPO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ocpo_coord.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    assert run("migrate").returncode == 0
    assert run("seed", "demo").returncode == 0
    with sqlite3.connect(tmp_path / "cli.sqlite") as conn:
        (entity_hex,) = conn.execute(
            "SELECT e.id FROM entity e JOIN record r ON r.id = e.id JOIN agency a ON a.id = r.owner_agency_id "
            "WHERE a.code = 'EULEX' LIMIT 1"
        ).fetchone()
    entity_id = str(uuid.UUID(entity_hex))
    contacts = tmp_path / "contacts.txt"
    contacts.write_text("\n".join([*_phones(200), "", SHARED_PHONE]) + "\n")
    done = run(
        "entity",
        "add-selectors",
        entity_id,
        "--file",
        str(contacts),
        "--kind",
        "phone",
        "--as",
        "eulex.prosecutor",
    )
    assert done.returncode == 0, done.stderr
    assert '"added": 201' in done.stdout
    again = run(
        "entity",
        "add-selectors",
        entity_id,
        "--file",
        str(contacts),
        "--kind",
        "phone",
        "--as",
        "eulex.prosecutor",
    )
    assert '"added": 0' in again.stdout
    contacts.write_text("+383 49 555 111\n\n###\n")
    refused = run(
        "entity",
        "add-selectors",
        entity_id,
        "--file",
        str(contacts),
        "--kind",
        "phone",
        "--as",
        "eulex.prosecutor",
    )
    assert refused.returncode == 1
    assert "line 3" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
