"""Agencies, theatres and users: directory data every reader may list."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.db.queries import among, execute
from ocpo_coord.db.sql_json import json_rows, parsed_rows
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


_CODES = "directory_codes"


async def directory_codes(session: AsyncSession) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """Agency and theatre codes by id, read together once per session: nearly every page
    shows both, and no request creates agencies or theatres (the seed does, before
    anything asks)."""
    if _CODES not in session.info:
        # Usually brought by the request's caller (``api/caller.py``); else read here,
        # the same two columns in a statement of their own.
        agencies, theatres = (await execute(session, select(*codes_columns()))).one()
        remember_codes(session, agencies, theatres)
    cached: tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]] = session.info[_CODES]
    return cached


def codes_columns() -> tuple[Any, Any]:
    """Agency and theatre codes by id as two ``json_rows`` columns, so that a statement
    that runs anyway (the caller's) brings them: see ``remember_codes``. A few dozen
    rows each; a theatre has about forty agencies."""
    agencies = select(json_rows(col(Agency.id), col(Agency.code))).scalar_subquery()
    theatres = select(json_rows(col(Theatre.id), col(Theatre.code))).scalar_subquery()
    return agencies, theatres


def remember_codes(session: AsyncSession, agencies: str | None, theatres: str | None) -> None:
    """Keep the codes of ``codes_columns`` for the session, as ``directory_codes`` would."""

    def by_id(text: str | None) -> dict[uuid.UUID, str]:
        return {uuid.UUID(row_id): code for row_id, code in parsed_rows(text)}

    session.info[_CODES] = by_id(agencies), by_id(theatres)


async def agency_codes(session: AsyncSession) -> dict[uuid.UUID, str]:
    return (await directory_codes(session))[0]


async def theatre_codes(session: AsyncSession) -> dict[uuid.UUID, str]:
    return (await directory_codes(session))[1]


async def theatre_id_by_code(session: AsyncSession, code: str) -> uuid.UUID | None:
    """``theatre_by_code``'s id, from the codes the session holds already (usually
    brought by the caller's own statement): no round trip of its own."""
    wanted = code.upper()
    return next((i for i, c in (await theatre_codes(session)).items() if c == wanted), None)


async def user_logins(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(User.id, User.login).where(among(session, col(User.id), wanted)))).all()
    return dict(rows)
