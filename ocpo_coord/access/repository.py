"""Access request queries."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import AccessRequest, Record
from ocpo_coord.models.enums import AccessRequestStatus
from ocpo_coord.sharing.visibility import readable


async def outgoing(
    session: AsyncSession, requester_id: uuid.UUID, status: AccessRequestStatus | None
) -> list[AccessRequest]:
    statement = select(AccessRequest).where(AccessRequest.requester_id == requester_id)
    if status is not None:
        statement = statement.where(AccessRequest.status == status)
    return list((await session.exec(statement.order_by(col(AccessRequest.created_at).desc()))).all())


def _decided_by_agency(agency_id: uuid.UUID) -> ColumnElement[bool]:
    # The owner decides; on ORCON material the originator must agree, so it sees them too.
    return or_(
        col(Record.owner_agency_id) == agency_id,
        and_(col(Record.orcon), col(Record.originator_agency_id) == agency_id),
    )


async def incoming(
    session: AsyncSession, principal: Principal, now: datetime, status: AccessRequestStatus | None
) -> list[AccessRequest]:
    """Requests on records the principal's agency decides on and the principal may read."""
    assert principal.agency_id is not None
    statement = (
        select(AccessRequest)
        .join(Record, col(Record.id) == col(AccessRequest.record_id))
        .where(_decided_by_agency(principal.agency_id), readable(principal, now=now))
    )
    if status is not None:
        statement = statement.where(AccessRequest.status == status)
    return list((await session.exec(statement.order_by(col(AccessRequest.created_at).desc()))).all())


async def pending_for(
    session: AsyncSession, record_id: uuid.UUID, requester_id: uuid.UUID
) -> AccessRequest | None:
    statement = select(AccessRequest).where(
        AccessRequest.record_id == record_id,
        AccessRequest.requester_id == requester_id,
        AccessRequest.status == AccessRequestStatus.PENDING,
    )
    return (await session.exec(statement)).first()
