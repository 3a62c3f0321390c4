"""What reaches the successor's installation: positions, responsibilities, assignees."""

import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlmodel import col, select

from ocpo_coord.app import create_app
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.importer import ImportSummary, import_package
from ocpo_coord.models import Agency, Position, Record, RecordEntity, Responsibility, Selector, Task
from tests.conftest import auth
from tests.fixtures.handover import (
    IN,
    OUT,
    act,
    lines,
    open_handover,
    settle,
    sign_and_complete,
    step,
    work_to_reviewed,
)
from tests.fixtures.queries import rows

CUT_OFF = date(2030, 12, 31)


async def travelled(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, package: Path
) -> tuple[str, ImportSummary]:
    hid, _ = await work_to_reviewed(client)
    await sign_and_complete(client, hid)
    await act(
        db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=uuid.UUID(hid), directory=package)
    )
    summary = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    return hid, summary


async def test_accepted_positions_and_responsibilities_belong_to_the_receiver_there_too(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    hid, summary = await travelled(client, db_url, other_db_url, tmp_path / "package")
    inventory = await lines(client, hid, IN)
    moved_positions = {
        ln["label"] for ln in inventory if ln["kind"] == "position" and ln["disposition"] == "accepted"
    }
    moved_duties = [
        ln for ln in inventory if ln["kind"] == "responsibility" and ln["disposition"] == "accepted"
    ]
    assert moved_positions
    assert moved_duties
    eulex = (await rows(other_db_url, select(Agency.id).where(Agency.code == "EULEX")))[0]
    there = await rows(other_db_url, select(Position).where(col(Position.title).in_(moved_positions)))
    assert {p.title for p in there} == moved_positions
    assert all(p.agency_id == eulex for p in there), [(p.title, p.agency_id) for p in there]
    successors = await rows(
        other_db_url,
        select(Responsibility).where(
            Responsibility.agency_id == eulex, Responsibility.valid_from == CUT_OFF + timedelta(days=1)
        ),
    )
    assert len(successors) == len(moved_duties)
    # Tasks keep the position they were assigned to, now the receiver's.
    source_tasks = await rows(
        db_url,
        select(Task).where(
            col(Task.id).in_([uuid.UUID(k) for k in summary.id_map]),
            col(Task.assignee_position_id).is_not(None),
        ),
    )
    assert source_tasks
    source_titles = dict(
        await rows(
            db_url,
            select(Position.id, Position.title).where(
                col(Position.id).in_([t.assignee_position_id for t in source_tasks])
            ),
        )
    )
    for task in source_tasks:
        target = (
            await rows(other_db_url, select(Task).where(Task.id == uuid.UUID(summary.id_map[str(task.id)])))
        )[0]
        assert target.assignee_position_id is not None, task.title
        position = (
            await rows(other_db_url, select(Position).where(Position.id == target.assignee_position_id))
        )[0]
        assert position.title == source_titles[task.assignee_position_id]


async def test_a_refused_consent_stub_says_whom_to_ask_at_the_receiver_too(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    handover = await open_handover(client)
    hid = handover["id"]
    assert (await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))).status_code == 200
    asked = (await client.get("/api/v1/handover-consents", headers=auth("kfor.j2"))).json()
    refused = next(r for r in asked if r["handover_id"] == hid)
    answer = await client.post(
        f"/api/v1/handover-consents/{refused['line_id']}",
        json={"grant": False, "note": "source protection"},
        headers=auth("kfor.j2"),
    )
    assert answer.status_code == 200, answer.text
    await settle(client, hid)
    for what, login in (
        ("submit", OUT),
        ("review", IN),
        ("sign-off", OUT),
        ("sign-off", IN),
        ("complete", IN),
    ):
        assert (await step(client, hid, what, login)).status_code == 200, what
    at_source = next(ln for ln in await lines(client, hid, IN) if ln["id"] == refused["line_id"])
    package = tmp_path / "package"
    await act(
        db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=uuid.UUID(hid), directory=package)
    )
    await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    receiver = create_app(database_url=other_db_url)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=receiver), base_url="http://b.test"
        ) as there:
            imported = (await there.get("/api/v1/handovers", headers=auth(IN))).json()
            assert len(imported) == 1
            stubs = [ln for ln in await lines(there, imported[0]["id"], IN) if ln["seq"] == at_source["seq"]]
    finally:
        await receiver.state.sessionmaker.kw["bind"].dispose()
    assert len(stubs) == 1
    stub = stubs[0]
    assert stub["consent_status"] == "refused"
    assert stub["readable"] is False
    assert stub["ask"], stub
    assert stub["ask"].startswith("KFOR")


async def test_provenance_says_what_happened_to_the_receivers_own_records(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    cases = (
        await client.get("/api/v1/cases", params={"agency": "UNMIK", "limit": 50}, headers=auth(OUT))
    ).json()
    # A case of UNMIK's that EULEX takes part in: EULEX writes its own note on it.
    note = None
    for case in cases["items"]:
        note = await client.post(
            "/api/v1/notes", json={"case_id": case["id"], "body": "EULEX's own reading"}, headers=auth(IN)
        )
        if note.status_code == 201:
            break
    assert note is not None
    assert note.status_code == 201, note.text
    note_id = uuid.UUID(note.json()["id"])
    _, summary = await travelled(client, db_url, other_db_url, tmp_path / "package")
    own = (await rows(db_url, select(Record).where(Record.id == note_id)))[0]
    assert "consent" not in own.provenance, own.provenance
    assert "nothing changed hands" in own.provenance
    there = (
        await rows(other_db_url, select(Record).where(Record.id == uuid.UUID(summary.id_map[str(note_id)])))
    )[0]
    assert "consent" not in there.provenance, there.provenance


async def test_linked_entities_travel_with_their_records_keeping_their_selectors(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    _, summary = await travelled(client, db_url, other_db_url, tmp_path / "package")
    moved = [uuid.UUID(k) for k in summary.id_map]
    linked = await rows(db_url, select(RecordEntity).where(col(RecordEntity.record_id).in_(moved)))
    assert linked, "the demo's moving cases and intelligence name persons, vehicles, phones"
    source_selectors = {
        (s.kind, s.normalized)
        for s in await rows(
            db_url, select(Selector).where(col(Selector.entity_id).in_({link.entity_id for link in linked}))
        )
    }
    assert source_selectors
    # The receiver reads them at the source...
    for entity_id in {link.entity_id for link in linked}:
        seen = await client.get(f"/api/v1/entities/{entity_id}", headers=auth(IN))
        assert seen.status_code == 200, seen.text
    # ... and its installation holds them, linked to its copies of the records.
    targets = [uuid.UUID(summary.id_map[str(link.record_id)]) for link in linked]
    there = await rows(other_db_url, select(RecordEntity).where(col(RecordEntity.record_id).in_(targets)))
    assert len(there) == len(linked)
    target_selectors = {
        (s.kind, s.normalized)
        for s in await rows(
            other_db_url,
            select(Selector).where(col(Selector.entity_id).in_({link.entity_id for link in there})),
        )
    }
    assert target_selectors == source_selectors
