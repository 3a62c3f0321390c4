"""Queries of the STIX exchange. Records are read through the domain repositories
(``readable``); what is here reads links, directory rows and the importer's own ids."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db import execute
from ocpo_coord.models import Agency, AgencyTheatre, IntelItem, Record, RecordEntity, StixImport, Theatre
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.visible_pages import page_statement
from ocpo_coord.sharing.scopes import held_scopes
from ocpo_coord.sharing.visibility import at_instant


async def agencies_by_id(session: AsyncSession) -> dict[uuid.UUID, Agency]:
    return {a.id: a for a in (await session.exec(select(Agency))).all()}


async def entity_links(
    session: AsyncSession, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Record id -> ids of the entities it refers to (readability is the caller's filter)."""
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(record_ids))
    if wanted:
        rows = (await session.exec(select(RecordEntity).where(col(RecordEntity.record_id).in_(wanted)))).all()
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
    wanted = list(set(ids))
    if not wanted:
        return set()
    return set((await session.exec(select(Record.id).where(col(Record.id).in_(wanted)))).all())


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
    rows = (await session.exec(select(StixImport).where(col(StixImport.record_id).in_(wanted)))).all()
    return {row.record_id: row for row in rows}
