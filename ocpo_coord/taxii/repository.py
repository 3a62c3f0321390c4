"""Queries of the TAXII server. Intelligence is read only through its readable (listing)
statement, so a collection never holds, counts or names what its reader may not read."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among, execute
from ocpo_coord.intel.repository import IntelRepository
from ocpo_coord.models import IntelItem, Record, TaxiiStatus
from ocpo_coord.visibility.readable import at_instant


async def readable_intel(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    theatre_id: uuid.UUID,
    added_after: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    record_ids: list[uuid.UUID] | None,
    versions: list[datetime] | None,
    limit: int,
) -> list[tuple[IntelItem, Record]]:
    """Readable intelligence of one theatre, oldest addition first (TAXII's order), at
    most ``limit`` rows past the cursor ``after`` (date added, id)."""
    statement = IntelRepository(session, principal=principal, now=now).filtered(theatre_id=theatre_id)
    created, record_id = col(Record.created_at), col(Record.id)
    if added_after is not None:
        statement = statement.where(created > added_after)
    if after is not None:
        statement = statement.where(tuple_(created, record_id) > tuple_(after[0], after[1]))
    if record_ids is not None:
        statement = statement.where(among(session, record_id, record_ids))
    if versions is not None:
        updated = col(Record.updated_at)
        statement = statement.where(
            or_(
                and_(updated >= created, updated.in_(versions)),
                and_(updated < created, created.in_(versions)),
            )
        )
    statement = statement.order_by(created, record_id).limit(limit)
    rows: list[Any] = list((await execute(session, statement, at_instant(now))).all())
    return [(row[0], row[1]) for row in rows]


async def add_status(session: AsyncSession, status: TaxiiStatus) -> None:
    session.add(status)
    await session.flush()


async def status_of(session: AsyncSession, status_id: uuid.UUID, user_id: uuid.UUID) -> TaxiiStatus | None:
    """A status answers the user who posted its envelope, and nobody else."""
    statement = select(TaxiiStatus).where(
        col(TaxiiStatus.id) == status_id, col(TaxiiStatus.user_id) == user_id
    )
    return (await session.exec(statement)).first()
