"""Filters given as codes become ids; an unknown code matches nothing, as a filter should."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.directory.repository import theatre_id_by_code
from ocpo_coord.records.repository import agency_ids_by_code

NOTHING = uuid.UUID(int=0)


async def theatre_filter(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    theatre_id = await theatre_id_by_code(session, code)
    return theatre_id if theatre_id is not None else NOTHING


async def agency_filter(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    return (await agency_ids_by_code(session, [code])).get(code.upper(), NOTHING)
