"""Reading a handover's inventory, page by page, as the reader may see it."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.handover import repository
from ocpo_coord.handover.policy import Side, side_of
from ocpo_coord.handover.schemas import LineFilter, LinePublic
from ocpo_coord.handover.service import visible
from ocpo_coord.handover.views import LineViews
from ocpo_coord.models import HandoverLine


async def _lines(
    session: AsyncSession,
    actor: Actor,
    handover_id: uuid.UUID,
    filters: LineFilter,
    *,
    after: int | None,
    limit: int,
) -> tuple[list[HandoverLine], SelectOfScalar[HandoverLine]]:
    """Lines in inventory order after ``after``, and how many the filter selects in all."""
    handover = await visible(session, actor, handover_id)
    outgoing = side_of(actor.principal, handover) is Side.OUTGOING
    statement = repository.as_seen_by(
        repository.filtered_lines(handover.id, include_hidden=outgoing, filters=filters),
        filters,
        actor.principal,
        actor.now,
    )
    found = await repository.lines(session, statement, after=after, limit=limit)
    return found, statement


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
    found, _ = await _lines(session, actor, handover_id, filters, after=after, limit=limit)
    views = await LineViews(session, actor).load(found)
    return [views.public(line) for line in found]


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
    found, statement = await _lines(session, actor, handover_id, filters, after=after, limit=first + 1)
    # Only the page is shown (and audited); the line after it only says that more follow.
    page = found[:first]
    views = await LineViews(session, actor).load(page)
    total = await repository.count_lines(session, statement)
    return [views.public(line) for line in page], len(found) > first, total
