"""Reading a handover's inventory, page by page, as the reader may see it."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.handover import repository
from ocpo_coord.handover.policy import Side, side_of
from ocpo_coord.handover.schemas import LineFilter, LinePublic
from ocpo_coord.handover.service import visible
from ocpo_coord.handover.views import LineViews


async def list_lines(
    session: AsyncSession,
    *,
    actor: Actor,
    handover_id: uuid.UUID,
    filters: LineFilter,
    after: int | None = None,
    limit: int = 100,
) -> list[LinePublic]:
    """Lines in inventory order, after the line numbered ``after`` (a keyset cursor)."""
    handover = await visible(session, actor, handover_id)
    outgoing = side_of(actor.principal, handover) is Side.OUTGOING
    statement = repository.filtered_lines(handover.id, include_hidden=outgoing, filters=filters)
    lines = await repository.lines(session, statement, after=after, limit=limit)
    views = await LineViews(session, actor.principal, actor.now).load(lines)
    return [views.public(line) for line in lines]


async def page_lines(
    session: AsyncSession,
    *,
    actor: Actor,
    handover_id: uuid.UUID,
    filters: LineFilter,
    after: int | None,
    first: int,
) -> tuple[list[LinePublic], bool, int]:
    """A page of lines, whether more follow, and how many the filter selects in all."""
    if not 1 <= first <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="first")
    found = await list_lines(
        session, actor=actor, handover_id=handover_id, filters=filters, after=after, limit=first + 1
    )
    handover = await visible(session, actor, handover_id)
    outgoing = side_of(actor.principal, handover) is Side.OUTGOING
    total = await repository.count_lines(
        session, repository.filtered_lines(handover.id, include_hidden=outgoing, filters=filters)
    )
    return found[:first], len(found) > first, total
