"""REST: /api/v1/me, /agencies, /theatres."""

from fastapi import APIRouter

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.directory import service
from ocpo_coord.directory.schemas import AgencyPublic, MePublic, TheatrePublic

router = APIRouter(tags=["directory"])


@router.get("/me", response_model=MePublic)
async def me(actor: ActorDep) -> MePublic:
    return service.me(actor.principal)


@router.get("/agencies", response_model=list[AgencyPublic])
async def agencies(session: SessionDep, actor: ActorDep) -> list[AgencyPublic]:
    return await service.list_agencies(session)


@router.get("/theatres", response_model=list[TheatrePublic])
async def theatres(session: SessionDep, actor: ActorDep) -> list[TheatrePublic]:
    return await service.list_theatres(session)
