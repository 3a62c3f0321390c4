"""Bulk rows copied (``COPY FROM STDIN`` on PostgreSQL) are stored exactly as the same
rows inserted one by one would be: enums, JSON, times made UTC, NULLs, and text that
the copy format must escape. Both the synchronous driver and the asyncio one."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from ocpo_coord.db import copy
from ocpo_coord.db.engine import make_async_engine
from ocpo_coord.models import Agency, AuditEvent, Entity, Record
from ocpo_coord.models.base import new_row, table_of
from ocpo_coord.models.enums import Classification, EntityKind, RecordKind, Tlp
from ocpo_coord.visibility import reach

# Text the COPY format escapes: its delimiter, line ends, its escape character, and
# what looks like its NULL marker.
AWKWARD = ["tab\there", "line\nend\r\n", "back\\slash", "\\N", "", "quote ' and \"", "Приштина ✓"]
ROWS = 120  # past the size from which PostgreSQL copies


def _rows(agency_id: uuid.UUID, label: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records, entities = [], []
    zone = timezone(timedelta(hours=2))
    for n in range(ROWS):
        text = AWKWARD[n % len(AWKWARD)]
        record = new_row(
            Record,
            kind=RecordKind.ENTITY,
            originator_agency_id=agency_id,
            custodian_agency_id=agency_id,
            owner_agency_id=agency_id,
            classification=list(Classification)[n % len(Classification)],
            tlp=list(Tlp)[n % len(Tlp)],
            orcon=n % 2 == 0,
            provenance=f"{label} {text}",
            created_at=datetime(2026, 3, 1, 12, n % 60, tzinfo=zone),
            updated_at=datetime(2026, 3, 2, tzinfo=zone),
        )
        records.append(record)
        entities.append(
            new_row(
                Entity,
                id=record["id"],
                entity_kind=EntityKind.PERSON,
                label=f"{label} {n} {text}",
                attributes={"note": text, "n": str(n)} if n % 3 else {},
            )
        )
    return records, entities


def _stored(conn: Connection, label: str) -> list[tuple[Any, ...]]:
    statement = (
        select(Record.__table__, Entity.__table__.c.label, Entity.__table__.c.attributes)  # type: ignore[attr-defined]
        .join(Entity.__table__, Entity.__table__.c.id == Record.__table__.c.id)  # type: ignore[attr-defined]
        .where(Record.__table__.c.provenance.startswith(label))  # type: ignore[attr-defined]
        .order_by(Entity.__table__.c.label)  # type: ignore[attr-defined]
    )
    return [(*row[1:],) for row in conn.execute(statement)]  # every column but the id


def _agency(engine: Engine) -> uuid.UUID:
    with engine.connect() as conn:
        found: uuid.UUID = conn.execute(select(Agency.__table__.c.id).limit(1)).scalar_one()  # type: ignore[attr-defined]
    return found


def _inserted(engine: Engine, agency_id: uuid.UUID) -> list[tuple[Any, ...]]:
    records, entities = _rows(agency_id, "inserted")
    with engine.begin() as conn:
        conn.execute(insert(table_of(Record)), records)
        conn.execute(insert(table_of(Entity)), entities)
        reach.refresh(conn, [row["id"] for row in records])
    with engine.connect() as conn:
        stored = _stored(conn, "inserted")
    return [
        tuple(v.replace("inserted", "copied") if isinstance(v, str) else v for v in row) for row in stored
    ]


def test_copied_rows_are_the_rows_inserted_one_by_one(engine: Engine) -> None:
    agency_id = _agency(engine)
    expected = _inserted(engine, agency_id)
    records, entities = _rows(agency_id, "copied")
    with engine.begin() as conn:
        copy.insert_rows(conn, table_of(Record), records)
        copy.insert_rows(conn, table_of(Entity), entities)
        reach.refresh(conn, [row["id"] for row in records])
    with engine.connect() as conn:
        assert _stored(conn, "copied") == expected
    assert len(expected) == ROWS


def test_the_asyncio_driver_copies_in_the_sessions_transaction(db_url: str, engine: Engine) -> None:
    agency_id = _agency(engine)
    expected = _inserted(engine, agency_id)

    async def copy_then(commit: bool) -> None:
        records, entities = _rows(agency_id, "copied")
        async_engine = make_async_engine(db_url)
        try:
            async with async_engine.connect() as conn:
                await conn.run_sync(lambda c: copy.insert_rows(c, table_of(Record), records))
                await conn.run_sync(lambda c: copy.insert_rows(c, table_of(Entity), entities))
                await conn.run_sync(lambda c: reach.refresh(c, [row["id"] for row in records]))
                if commit:
                    await conn.commit()
                else:
                    await conn.rollback()
        finally:
            await async_engine.dispose()

    asyncio.run(copy_then(commit=False))
    with engine.connect() as conn:
        assert _stored(conn, "copied") == []
    asyncio.run(copy_then(commit=True))
    with engine.connect() as conn:
        assert _stored(conn, "copied") == expected


def test_a_copy_that_breaks_a_constraint_writes_nothing(engine: Engine) -> None:
    agency_id = _agency(engine)
    records, entities = _rows(agency_id, "copied")
    entities[-1]["id"] = uuid.uuid4()  # an entity whose record does not exist

    def both(conn: Connection) -> None:
        copy.insert_rows(conn, table_of(Record), records)
        copy.insert_rows(conn, table_of(Entity), entities)

    with pytest.raises(IntegrityError), engine.begin() as conn:
        both(conn)
    with engine.connect() as conn:
        assert _stored(conn, "copied") == []


def test_a_row_without_a_column_the_first_gives_is_refused(engine: Engine) -> None:
    agency_id = _agency(engine)
    records, _ = _rows(agency_id, "copied")
    del records[-1]["provenance"]
    # The copy names the missing column; an executemany the missing parameter.
    with pytest.raises((KeyError, StatementError), match="provenance"), engine.begin() as conn:
        copy.insert_rows(conn, table_of(Record), records)


def _entries(label: str) -> list[dict[str, Any]]:
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    return [
        {
            "id": uuid.uuid4(),
            "at": at,
            "actor_id": None,
            "actor_name": label,
            "agency_id": None,
            "request_id": f"{label}-{n}",
            "action": "copy.check",
            "record_kind": None,
            "record_id": None,
            # NULL when unused (none_as_null), and JSON null where the column keeps it.
            "record_ids": [str(uuid.UUID(int=n))] if n % 2 else None,
            "before": None if n % 3 else {"text": AWKWARD[n % len(AWKWARD)]},
            "after": {"n": n, "nested": {"list": [1, "two", None]}},
            "detail": AWKWARD[n % len(AWKWARD)],
            "prev_hash": "",
            "hash": uuid.uuid4().hex,
        }
        for n in range(ROWS)
    ]


def test_audit_entries_keep_their_nulls_and_json_when_copied(engine: Engine) -> None:
    """A JSON column that keeps JSON null and one that keeps SQL NULL: the entry's hash
    covers them, so a copy must store each as the insert does."""
    table = table_of(AuditEvent)
    nulls = [
        func.count().filter(column.is_(None)).label(f"{column.name}_sql_null")
        for column in (table.c.record_ids, table.c.before)
    ]
    kept = select(table.c.record_ids, table.c.before, table.c.after, table.c.detail).order_by(
        table.c.request_id
    )
    seen = {}
    for label, write in (
        ("inserted", lambda c, rows: c.execute(insert(table), rows)),
        ("copied", lambda c, rows: copy.insert_rows(c, table, rows)),
    ):
        with engine.begin() as conn:
            write(conn, _entries(label))
        with engine.connect() as conn:
            mine = table.c.actor_name == label
            seen[label] = (
                conn.execute(select(*nulls).where(mine)).one(),
                conn.execute(kept.where(mine)).all(),
            )
    assert seen["copied"] == seen["inserted"]
    assert seen["copied"][0] == (ROWS // 2, 0)  # record_ids NULL when unused; before JSON null
