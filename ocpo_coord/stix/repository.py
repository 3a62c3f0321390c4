"""Queries of the STIX exchange. Records are read through the domain repositories
(``readable``); what is here reads links, directory rows and the importer's own ids."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db import copy
from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import Agency, AgencyTheatre, IntelItem, Record, RecordEntity, StixImport, Theatre
from ocpo_coord.models.base import table_of
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility import reach
from ocpo_coord.visibility.pages import page_statement
from ocpo_coord.visibility.readable import at_instant
from ocpo_coord.visibility.scopes import held_scopes


async def agencies_by_id(session: AsyncSession) -> dict[uuid.UUID, Agency]:
    return {a.id: a for a in (await session.exec(select(Agency))).all()}


async def entity_links(
    session: AsyncSession, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Record id -> ids of the entities it refers to (readability is the caller's filter)."""
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(record_ids))
    if wanted:
        rows = (
            await session.exec(
                select(RecordEntity).where(among(session, col(RecordEntity.record_id), wanted))
            )
        ).all()
        for row in rows:
            grouped[row.record_id].append(row.entity_id)
    return grouped


async def newest(
    session: AsyncSession, statement: Select[IntelItem, Record], reader: Principal, now: datetime, limit: int
) -> list[tuple[IntelItem, Record]]:
    """The newest ``limit`` rows of a readable statement, found as the lists find them."""
    held = await held_scopes(session, reader, now)
    if not held:
        return []
    page = page_statement(statement, held, RecordKind.INTEL_ITEM, after=None, limit=limit)
    rows: list[Any] = list((await execute(session, page, at_instant(now))).all())
    return [(row[0], row[1]) for row in rows]


async def existing_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ids are taken. Only for ids derived from the importer's own agency
    and a STIX id it holds: the answer tells it only what it imported itself before."""
    return await record_ids_among(session, ids)


async def theatres_of_agency(session: AsyncSession, agency_id: uuid.UUID) -> list[Theatre]:
    statement = (
        select(Theatre)
        .join(AgencyTheatre, col(AgencyTheatre.theatre_id) == col(Theatre.id))
        .where(col(AgencyTheatre.agency_id) == agency_id)
        .order_by(col(Theatre.code))
    )
    return list((await session.exec(statement)).all())


async def import_versions(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StixImport]:
    """The STIX versions kept for these imported items (ids derived as for ``existing_ids``)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        await session.exec(select(StixImport).where(among(session, col(StixImport.record_id), wanted)))
    ).all()
    return {row.record_id: row for row in rows}


async def record_ids_among(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ids name a record here, a statement per 500 ids."""
    wanted = sorted(set(ids))
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), 500):
        statement = select(Record.id).where(among(session, col(Record.id), wanted[start : start + 500]))
        found |= set((await session.exec(statement)).all())
    return found


async def insert_new(
    session: AsyncSession, tables: Sequence[tuple[type[SQLModel], list[dict[str, Any]]]]
) -> None:
    """New rows (every column given), a multi-row insert per table in the order given
    (parents first), then the visibility index rows of the new records (the rows of
    ``Record``): plain inserts bypass the session's flush hook that would file them
    (``visibility/reach.py``)."""
    records: list[dict[str, Any]] = []
    for model, rows in tables:
        if rows:
            await copy.insert_all(session, table_of(model), rows)
            if model is Record:
                records += rows
    if records:
        await session.run_sync(lambda sync: reach.file_new(sync.connection(), records))
