"""Records that hang off a case: notes, evidence and tasks."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.case.repository import CaseRepository, is_participant
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Record
from ocpo_coord.sharing.policy import enforce, may_add_child


async def parent_case(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, *, field: str = "case_id"
) -> Record:
    """The case a new child hangs off: readable, and open to the actor's agency."""
    row = await CaseRepository(session, principal=actor.principal, now=actor.now).get(case_id)
    if row is None:
        raise InvalidInput(f"case not found: {case_id}", field=field)
    _, record = row
    participant = await is_participant(session, record.id, actor.principal.agency_id)
    enforce(may_add_child(actor.principal, record, participant))
    return record
