"""REST: /api/v1/cases. Parse, call one service function, shape the answer."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.case import service
from ocpo_coord.case.schemas import CaseCreate, CaseFilter, CasePublic, CaseUpdate


class CaseFilterParams(CaseFilter, PageParams):
    pass


router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", response_model=ListResponse[CasePublic])
async def list_cases(
    session: SessionDep,
    actor: ActorDep,
    params: Annotated[CaseFilterParams, Query()],
) -> ListResponse[CasePublic]:
    page = await service.list_cases(
        session,
        actor=actor,
        filters=CaseFilter.model_validate(params.filters()),
        first=params.limit,
        after=params.after,
    )
    return envelope(page)


@router.post("", response_model=CasePublic, status_code=status.HTTP_201_CREATED)
async def create_case(session: SessionDep, actor: ActorDep, body: CaseCreate) -> CasePublic:
    return await service.create_case(session, actor=actor, data=body)


@router.get("/{case_id}", response_model=CasePublic)
async def get_case(session: SessionDep, actor: ActorDep, case_id: uuid.UUID) -> CasePublic:
    return await service.get_case(session, actor=actor, case_id=case_id)


@router.patch("/{case_id}", response_model=CasePublic)
async def update_case(
    session: SessionDep, actor: ActorDep, case_id: uuid.UUID, body: CaseUpdate
) -> CasePublic:
    return await service.update_case(session, actor=actor, case_id=case_id, data=body)
