"""Records that hang off a case: notes, evidence and tasks."""

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Case, CaseAgency, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.policy import enforce, may_add_child
from ocpo_coord.visibility.repository import RecordRepository


async def parent_case(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, *, field: str = "case_id"
) -> Record:
    """The case a new child hangs off: readable, and open to the actor's agency."""
    cases = RecordRepository(session, Case, RecordKind.CASE, principal=actor.principal, now=actor.now)
    row = await cases.get(case_id)
    if row is None:
        raise InvalidInput(f"case not found: {case_id}", field=field)
    _, record = row
    participant = await _participates(session, record.id, actor.principal.agency_id)
    enforce(may_add_child(actor.principal, record, participant))
    return record


async def _participates(session: AsyncSession, case_id: uuid.UUID, agency_id: uuid.UUID | None) -> bool:
    if agency_id is None:
        return False
    found = await session.exec(
        select(CaseAgency.agency_id).where(CaseAgency.case_id == case_id, CaseAgency.agency_id == agency_id)
    )
    return found.first() is not None
