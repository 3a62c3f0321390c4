"""Reading a handover's inventory, page by page, as the reader may see it."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
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
