"""REST: /api/v1/cases. Parse, call one service function, shape the answer."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
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
async def create_case(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: CaseCreate,
    idempotency_key: IdempotencyKey = None,
) -> CasePublic | JSONResponse:
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: service.create_case(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/{case_id}", response_model=CasePublic)
async def get_case(
    session: SessionDep, actor: ActorDep, response: Response, case_id: uuid.UUID
) -> CasePublic:
    return tag_response(response, await service.read_case(session, actor=actor, case_id=case_id))


@router.patch("/{case_id}", response_model=CasePublic)
async def update_case(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    case_id: uuid.UUID,
    body: CaseUpdate,
    if_match: IfMatch = None,
) -> CasePublic:
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: service.update_case(
            session, actor=actor, case_id=case_id, data=body.model_copy(update={"expected_version": version})
        ),
    )
    return tag_response(response, updated)
