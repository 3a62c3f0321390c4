"""Sharing administration queries. An agency sees the groups it owns or belongs to and
the agreements it is a party to; grants are reached only through a readable record."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.db.queries import among
from ocpo_coord.models import (
    Agency,
    Record,
    RecordGrant,
    RecordRelease,
    SharingAgreement,
    SharingGroup,
    SharingGroupMember,
    User,
)
from ocpo_coord.visibility.pagination import Order


def _group_visible_to(agency_id: uuid.UUID) -> ColumnElement[bool]:
    member = exists().where(
        col(SharingGroupMember.sharing_group_id) == col(SharingGroup.id),
        col(SharingGroupMember.agency_id) == agency_id,
    )
    return or_(col(SharingGroup.owner_agency_id) == agency_id, member)


GROUP_ORDER = Order(col(SharingGroup.name), col(SharingGroup.id), descending=False, text=True)
AGREEMENT_ORDER = Order(col(SharingAgreement.valid_from), col(SharingAgreement.id))
GRANT_ORDER = Order(col(RecordGrant.created_at), col(RecordGrant.id))


def groups_visible_to(agency_id: uuid.UUID) -> SelectOfScalar[SharingGroup]:
    return select(SharingGroup).where(_group_visible_to(agency_id))


async def visible_groups(session: AsyncSession, agency_id: uuid.UUID) -> list[SharingGroup]:
    statement = groups_visible_to(agency_id).order_by(col(SharingGroup.name), col(SharingGroup.id))
    return list((await session.exec(statement)).all())


async def visible_group(
    session: AsyncSession, group_id: uuid.UUID, agency_id: uuid.UUID, *, for_update: bool = False
) -> SharingGroup | None:
    statement = select(SharingGroup).where(col(SharingGroup.id) == group_id, _group_visible_to(agency_id))
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=SharingGroup)
    return (await session.exec(statement)).first()


async def members_of(
    session: AsyncSession, group_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(group_ids))
    if wanted:
        statement = select(SharingGroupMember).where(
            among(session, col(SharingGroupMember.sharing_group_id), wanted)
        )
        for row in (await session.exec(statement)).all():
            grouped[row.sharing_group_id].append(row.agency_id)
    return grouped


async def membership(
    session: AsyncSession, group_id: uuid.UUID, agency_id: uuid.UUID
) -> SharingGroupMember | None:
    statement = select(SharingGroupMember).where(
        col(SharingGroupMember.sharing_group_id) == group_id,
        col(SharingGroupMember.agency_id) == agency_id,
    )
    return (await session.exec(statement)).first()


async def has_releases(session: AsyncSession, group_id: uuid.UUID) -> bool:
    """Whether any record is released to the group (an existence test, never the records)."""
    statement = select(RecordRelease.id).where(col(RecordRelease.sharing_group_id) == group_id).limit(1)
    return (await session.exec(statement)).first() is not None


async def carries_others_records(session: AsyncSession, group_id: uuid.UUID, agency_id: uuid.UUID) -> bool:
    """Whether the group carries a record whose release ``agency_id`` may not widen:
    another agency's, or ORCON material it did not originate."""
    not_ours = or_(
        col(Record.owner_agency_id) != agency_id,
        and_(col(Record.orcon), col(Record.originator_agency_id) != agency_id),
    )
    statement = (
        select(RecordRelease.id)
        .join(Record, col(Record.id) == col(RecordRelease.record_id))
        .where(col(RecordRelease.sharing_group_id) == group_id, not_ours)
        .limit(1)
    )
    return (await session.exec(statement)).first() is not None


async def delete_group(session: AsyncSession, group: SharingGroup) -> None:
    statement = select(SharingGroupMember).where(col(SharingGroupMember.sharing_group_id) == group.id)
    for member in (await session.exec(statement)).all():
        await session.delete(member)
    await session.flush()
    await session.delete(group)
    await session.flush()


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return (await session.exec(select(Agency).where(col(Agency.code) == code.upper()))).first()


async def user_by_login(session: AsyncSession, login: str) -> tuple[User, Agency | None] | None:
    statement = (
        select(User, Agency)
        .join(Agency, col(Agency.id) == col(User.agency_id), isouter=True)
        .where(col(User.login) == login)
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1]) if row is not None else None


def _party_to(agency_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(
        col(SharingAgreement.grantor_agency_id) == agency_id,
        col(SharingAgreement.grantee_agency_id) == agency_id,
    )


def agreements_with(agency_id: uuid.UUID) -> SelectOfScalar[SharingAgreement]:
    return select(SharingAgreement).where(_party_to(agency_id))


async def agreements_of(session: AsyncSession, agency_id: uuid.UUID) -> list[SharingAgreement]:
    statement = agreements_with(agency_id).order_by(
        col(SharingAgreement.valid_from).desc(), col(SharingAgreement.id)
    )
    return list((await session.exec(statement)).all())


async def agreement_of(
    session: AsyncSession, agreement_id: uuid.UUID, agency_id: uuid.UUID
) -> SharingAgreement | None:
    statement = select(SharingAgreement).where(col(SharingAgreement.id) == agreement_id, _party_to(agency_id))
    return (await session.exec(statement)).first()


def grants_on(record_id: uuid.UUID) -> SelectOfScalar[RecordGrant]:
    """A record's grants; the caller has checked that the record is readable."""
    return select(RecordGrant).where(col(RecordGrant.record_id) == record_id)


async def grants_of(session: AsyncSession, record_id: uuid.UUID) -> list[RecordGrant]:
    """A record's grants; the caller has checked that the record is readable."""
    statement = grants_on(record_id).order_by(col(RecordGrant.created_at).desc(), col(RecordGrant.id))
    return list((await session.exec(statement)).all())


async def grant_by_id(session: AsyncSession, grant_id: uuid.UUID) -> RecordGrant | None:
    """One grant; the caller must check that its record is readable before using it."""
    return (await session.exec(select(RecordGrant).where(col(RecordGrant.id) == grant_id))).first()


async def active_grant(
    session: AsyncSession,
    record_id: uuid.UUID,
    *,
    agency_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    now: datetime,
) -> RecordGrant | None:
    target = (
        col(RecordGrant.agency_id) == agency_id
        if agency_id is not None
        else col(RecordGrant.user_id) == user_id
    )
    statement = select(RecordGrant).where(
        col(RecordGrant.record_id) == record_id,
        target,
        or_(col(RecordGrant.expires_at).is_(None), col(RecordGrant.expires_at) > now),
    )
    return (await session.exec(statement)).first()
