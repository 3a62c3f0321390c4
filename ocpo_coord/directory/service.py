"""Directory views: who takes part, where, and who is asking."""

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth import directory as repository
from ocpo_coord.auth.principal import Principal
from ocpo_coord.directory.schemas import AgencyPublic, MePublic, TheatrePublic


async def list_theatres(session: AsyncSession) -> list[TheatrePublic]:
    return [
        TheatrePublic(id=t.id, code=t.code, name=t.name, country=t.country, regions=t.regions)
        for t in await repository.list_theatres(session)
    ]


async def list_agencies(session: AsyncSession) -> list[AgencyPublic]:
    agencies = await repository.list_agencies(session)
    codes = {a.id: a.code for a in agencies}
    theatres = await repository.theatre_codes(session)
    deployments = await repository.theatres_of_agencies(session)
    successors: dict[str, list[str]] = {}
    for agency in agencies:
        if agency.predecessor_id in codes:
            successors.setdefault(codes[agency.predecessor_id], []).append(agency.code)
    return [
        AgencyPublic(
            id=a.id,
            code=a.code,
            name=a.name,
            kind=a.kind,
            parent_organisation=a.parent_organisation,
            host_nation=a.host_nation,
            mandate_start=a.mandate_start,
            mandate_end=a.mandate_end,
            predecessor=codes.get(a.predecessor_id) if a.predecessor_id else None,
            successors=sorted(successors.get(a.code, [])),
            theatres=sorted(theatres[t] for t in deployments.get(a.id, []) if t in theatres),
        )
        for a in agencies
    ]


def me(principal: Principal) -> MePublic:
    return MePublic(
        id=principal.user_id,
        login=principal.login,
        display_name=principal.display_name,
        agency=principal.agency_code,
        roles=sorted(principal.roles),
        clearance=principal.clearance,
    )
