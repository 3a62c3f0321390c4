"""Agencies, theatres and users: directory data every reader may list."""

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.models import Agency, AgencyTheatre, Theatre, User


async def list_agencies(session: AsyncSession) -> list[Agency]:
    return list((await session.exec(select(Agency).order_by(Agency.code))).all())


async def list_theatres(session: AsyncSession) -> list[Theatre]:
    return list((await session.exec(select(Theatre).order_by(Theatre.code))).all())


async def theatres_of_agencies(session: AsyncSession) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for link in (await session.exec(select(AgencyTheatre))).all():
        grouped[link.agency_id].append(link.theatre_id)
    return grouped


async def theatre_by_code(session: AsyncSession, code: str) -> Theatre | None:
    return (await session.exec(select(Theatre).where(Theatre.code == code.upper()))).first()


async def theatre_codes(session: AsyncSession) -> dict[uuid.UUID, str]:
    rows = (await session.exec(select(Theatre.id, Theatre.code))).all()
    return dict(rows)


async def user_logins(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(User.id, User.login).where(col(User.id).in_(wanted)))).all()
    return dict(rows)
