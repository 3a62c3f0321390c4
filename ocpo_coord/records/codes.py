"""Agency and theatre codes a client gives become ids. In a filter an unknown code matches
nothing, as a filter should; in a record's fields it is refused, naming the field."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.directory import theatre_id_by_code
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.visibility.repository import agency_ids_by_code

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


async def agency_ids_from_codes(session: AsyncSession, codes: list[str], field: str) -> list[uuid.UUID]:
    found = await agency_ids_by_code(session, codes)
    unknown = sorted({c.upper() for c in codes} - set(found))
    if unknown:
        raise InvalidInput(f"unknown agency code(s): {', '.join(unknown)}", field=field)
    return list(found.values())
