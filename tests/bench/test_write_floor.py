"""The bench's write floor replays exactly the rows a real create wrote, under new ids."""

import uuid
from datetime import date

import httpx
from sqlalchemy import func, select

from ocpo_coord.bench.write_floor import TABLES, Replay, _renamed, capture
from ocpo_coord.db.engine import make_sync_engine
from tests.conftest import auth

KFOR_PHONE = "044 218 907"  # held by other agencies in the demo: the create raises hits


async def _create(client: httpx.AsyncClient, request_ids: tuple[str, str]) -> tuple[str, str]:
    headers = auth("eulex.prosecutor")
    item = await client.post(
        "/api/v1/intel-items",
        headers={**headers, "X-Request-ID": request_ids[0]},
        json={
            "title": "Floor probe",
            "content": "A report with a subject and a phone number.",
            "information_date": date.today().isoformat(),
            "source_reliability": "B",
            "information_credibility": "2",
            "theatre": "KOS",
        },
    )
    assert item.status_code == 201, item.text
    entity = await client.post(
        "/api/v1/entities",
        headers={**headers, "X-Request-ID": request_ids[1]},
        json={
            "entity_kind": "person",
            "label": "Floor subject",
            "theatre": "KOS",
            "selectors": [{"kind": "phone", "value": KFOR_PHONE}, {"kind": "name", "value": "floor subject"}],
            "links": [{"record_id": item.json()["id"]}],
        },
    )
    assert entity.status_code == 201, entity.text
    return item.json()["id"], entity.json()["id"]


async def test_the_write_floor_writes_the_rows_of_a_create_again(
    client: httpx.AsyncClient, db_url: str
) -> None:
    request_ids = (f"floor-{uuid.uuid4().hex}", f"floor-{uuid.uuid4().hex}")
    item_id, entity_id = await _create(client, request_ids)
    engine = make_sync_engine(db_url)
    try:
        written = (
            capture(engine, uuid.UUID(item_id), request_ids[0]),
            capture(engine, uuid.UUID(entity_id), request_ids[1]),
        )
        rows = {t: sum(len(p.rows[t]) for p in written) for t in written[0].rows}
        # Every rule's rows are there: index rows, the hits and their notices, audit entries.
        assert rows["record"] == 2
        assert rows["selector"] == 2
        assert rows["record_entity"] == 1
        assert rows["record_reach"] >= 2
        assert rows["deconfliction_hit"] >= 2
        assert rows["notification"] >= rows["deconfliction_hit"]
        assert rows["audit_event"] >= 2 + rows["deconfliction_hit"]

        def counts() -> dict[str, int]:
            with engine.connect() as conn:
                return {
                    t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                    for t in TABLES
                }

        before = counts()
        replay = Replay(engine)
        try:
            for _ in range(2):
                replay.write_all([replay.statements(part) for part in _renamed(written)])
        finally:
            replay.close()
        after = counts()
        assert {t: after[t] - before[t] for t in rows} == {t: 2 * n for t, n in rows.items()}
    finally:
        engine.dispose()
