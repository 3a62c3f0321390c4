"""Responsibility and transfer queries."""

import uuid

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.models import AgencyTheatre, Responsibility, ResponsibilityTransfer
from ocpo_coord.models.enums import TransferStatus
from ocpo_coord.visibility.pagination import Order


async def in_theatre(
    session: AsyncSession, theatre_id: uuid.UUID, region: str | None
) -> list[Responsibility]:
    statement = select(Responsibility).where(Responsibility.theatre_id == theatre_id)
    if region is not None:
        statement = statement.where(
            or_(col(Responsibility.region) == "", col(Responsibility.region) == region)
        )
    statement = statement.order_by(
        col(Responsibility.activity_area), col(Responsibility.region), col(Responsibility.valid_from)
    )
    return list((await session.exec(statement)).all())


async def deployed_agencies(session: AsyncSession, theatre_id: uuid.UUID) -> list[uuid.UUID]:
    statement = select(AgencyTheatre.agency_id).where(AgencyTheatre.theatre_id == theatre_id)
    return list((await session.exec(statement)).all())


async def get_responsibility(session: AsyncSession, responsibility_id: uuid.UUID) -> Responsibility | None:
    return await session.get(Responsibility, responsibility_id)


async def get_transfer(session: AsyncSession, transfer_id: uuid.UUID) -> ResponsibilityTransfer | None:
    return await session.get(ResponsibilityTransfer, transfer_id)


async def open_offer(session: AsyncSession, responsibility_id: uuid.UUID) -> ResponsibilityTransfer | None:
    statement = select(ResponsibilityTransfer).where(
        ResponsibilityTransfer.responsibility_id == responsibility_id,
        ResponsibilityTransfer.status == TransferStatus.OFFERED,
    )
    return (await session.exec(statement)).first()


TRANSFER_ORDER = Order(col(ResponsibilityTransfer.offered_at), col(ResponsibilityTransfer.id))


def transfers_statement(
    agency_id: uuid.UUID, status: TransferStatus | None
) -> SelectOfScalar[ResponsibilityTransfer]:
    """Transfers the agency offered or was offered, unordered; lists order and bound it."""
    statement = select(ResponsibilityTransfer).where(
        or_(
            col(ResponsibilityTransfer.from_agency_id) == agency_id,
            col(ResponsibilityTransfer.to_agency_id) == agency_id,
        )
    )
    if status is not None:
        statement = statement.where(ResponsibilityTransfer.status == status)
    return statement


async def transfers_of_agency(
    session: AsyncSession, agency_id: uuid.UUID, status: TransferStatus | None
) -> list[ResponsibilityTransfer]:
    statement = transfers_statement(agency_id, status).order_by(
        col(ResponsibilityTransfer.offered_at).desc(), col(ResponsibilityTransfer.id)
    )
    return list((await session.exec(statement)).all())
