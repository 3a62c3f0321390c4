"""Access request queries."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import AccessRequest, Record
from ocpo_coord.models.enums import AccessRequestStatus
from ocpo_coord.visibility.pagination import Order
from ocpo_coord.visibility.readable import readable

REQUEST_ORDER = Order(col(AccessRequest.created_at), col(AccessRequest.id))


def outgoing(requester_id: uuid.UUID, status: AccessRequestStatus | None) -> SelectOfScalar[AccessRequest]:
    """The requester's own requests (the records need not be readable: that is the point)."""
    statement = select(AccessRequest).where(AccessRequest.requester_id == requester_id)
    if status is not None:
        statement = statement.where(AccessRequest.status == status)
    return statement


def _decided_by_agency(agency_id: uuid.UUID) -> ColumnElement[bool]:
    # The owner decides; on ORCON material the originator must agree, so it sees them too.
    return or_(
        col(Record.owner_agency_id) == agency_id,
        and_(col(Record.orcon), col(Record.originator_agency_id) == agency_id),
    )


def incoming(
    principal: Principal, now: datetime, status: AccessRequestStatus | None
) -> SelectOfScalar[AccessRequest]:
    """Requests on records the principal's agency decides on and the principal may read."""
    assert principal.agency_id is not None
    statement = (
        select(AccessRequest)
        .join(Record, col(Record.id) == col(AccessRequest.record_id))
        .where(_decided_by_agency(principal.agency_id), readable(principal, now=now))
    )
    if status is not None:
        statement = statement.where(AccessRequest.status == status)
    return statement


async def newest_first(
    session: AsyncSession, statement: SelectOfScalar[AccessRequest]
) -> list[AccessRequest]:
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
