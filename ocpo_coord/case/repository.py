"""Case queries. Every read starts from the readable statement of ``RecordRepository``."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among
from ocpo_coord.models import Case, CaseAgency, CaseCrimeType, CaseMember, Record
from ocpo_coord.models.enums import CrimeType, RecordKind
from ocpo_coord.records.references import fresh_reference
from ocpo_coord.records.text import contains_text
from ocpo_coord.visibility.repository import RecordRepository


class CaseRepository(RecordRepository[Case]):
    def __init__(self, session: AsyncSession, *, principal: Principal, now: datetime) -> None:
        super().__init__(session, Case, RecordKind.CASE, principal=principal, now=now)

    def filtered(
        self,
        *,
        status: str | None = None,
        crime_type: str | None = None,
        theatre_id: uuid.UUID | None = None,
        agency_id: uuid.UUID | None = None,
        text: str | None = None,
    ) -> Select[Case, Record]:
        statement: Select[Case, Record] = self.listing_statement()
        if status:
            statement = statement.where(col(Case.status) == status)
        if crime_type:
            statement = statement.where(
                exists().where(
                    col(CaseCrimeType.case_id) == col(Case.id), col(CaseCrimeType.crime_type) == crime_type
                )
            )
        if theatre_id:
            statement = statement.where(col(Record.theatre_id) == theatre_id)
        if agency_id:
            statement = statement.where(
                or_(
                    col(Case.lead_agency_id) == agency_id,
                    exists().where(
                        col(CaseAgency.case_id) == col(Case.id), col(CaseAgency.agency_id) == agency_id
                    ),
                )
            )
        if text:
            statement = statement.where(contains_text(text, Case.title, Case.summary, Case.reference))
        return statement


async def crime_types_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    grouped: dict[uuid.UUID, list[str]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(
                select(CaseCrimeType).where(among(session, col(CaseCrimeType.case_id), wanted))
            )
        ).all()
        for row in rows:
            grouped[row.case_id].append(row.crime_type)
    return grouped


async def agencies_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(select(CaseAgency).where(among(session, col(CaseAgency.case_id), wanted)))
        ).all()
        for row in rows:
            grouped[row.case_id].append(row.agency_id)
    return grouped


async def members_for(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(select(CaseMember).where(among(session, col(CaseMember.case_id), wanted)))
        ).all()
        for row in rows:
            grouped[row.case_id].append(row.user_id)
    return grouped


# Crockford's alphabet: no I, L, O or U to misread over a radio or in handwriting.
async def new_reference(session: AsyncSession, prefix: str) -> str:
    async def taken(candidate: str) -> bool:
        return (await session.exec(select(Case.id).where(Case.reference == candidate))).first() is not None

    return await fresh_reference(prefix, taken)


async def replace_links(
    session: AsyncSession,
    case_id: uuid.UUID,
    *,
    crime_types: list[CrimeType] | None = None,
    agency_ids: list[uuid.UUID] | None = None,
    member_ids: list[uuid.UUID] | None = None,
) -> None:
    if crime_types is not None:
        for crime_row in (
            await session.exec(select(CaseCrimeType).where(CaseCrimeType.case_id == case_id))
        ).all():
            await session.delete(crime_row)
    if agency_ids is not None:
        for agency_row in (await session.exec(select(CaseAgency).where(CaseAgency.case_id == case_id))).all():
            await session.delete(agency_row)
    if member_ids is not None:
        for member_row in (await session.exec(select(CaseMember).where(CaseMember.case_id == case_id))).all():
            await session.delete(member_row)
    await session.flush()
    for crime_type in sorted(set(crime_types or [])):
        session.add(CaseCrimeType(case_id=case_id, crime_type=crime_type))
    for agency_id in sorted(set(agency_ids or [])):
        session.add(CaseAgency(case_id=case_id, agency_id=agency_id))
    for user_id in sorted(set(member_ids or [])):
        session.add(CaseMember(case_id=case_id, user_id=user_id))
    await session.flush()


async def set_restriction(session: AsyncSession, case_record: Record, restricted: bool) -> None:
    """A restricted case takes everything that hangs off it along."""
    value = case_record.id if restricted else None
    case_record.restricted_case_id = value
    children = (await session.exec(select(Record).where(Record.parent_id == case_record.id))).all()
    for child in children:
        child.restricted_case_id = value
