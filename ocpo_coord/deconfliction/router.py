"""REST: /api/v1/planned-operations and /api/v1/deconfliction-hits."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.deconfliction import operations, service
from ocpo_coord.deconfliction.schemas import (
    HitFilter,
    HitPublic,
    HitResolve,
    PlannedOperationCreate,
    PlannedOperationFilter,
    PlannedOperationPublic,
    PlannedOperationUpdate,
)

router = APIRouter(tags=["deconfliction"])


class OperationFilterParams(PlannedOperationFilter, PageParams):
    pass


@router.get("/planned-operations", response_model=ListResponse[PlannedOperationPublic])
async def list_operations(
    session: SessionDep, actor: ActorDep, params: Annotated[OperationFilterParams, Query()]
) -> ListResponse[PlannedOperationPublic]:
    return envelope(
        await operations.list_operations(
            session,
            actor=actor,
            filters=PlannedOperationFilter.model_validate(params.filters()),
            first=params.limit,
            after=params.after,
        )
    )


@router.post(
    "/planned-operations", response_model=PlannedOperationPublic, status_code=status.HTTP_201_CREATED
)
async def create_operation(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: PlannedOperationCreate,
    idempotency_key: IdempotencyKey = None,
) -> PlannedOperationPublic | JSONResponse:
    """Plan an operation; a collision with another agency's raises a hit for both."""
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: operations.create_operation(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/planned-operations/{operation_id}", response_model=PlannedOperationPublic)
async def get_operation(
    session: SessionDep, actor: ActorDep, response: Response, operation_id: uuid.UUID
) -> PlannedOperationPublic:
    return tag_response(
        response, await operations.read_operation(session, actor=actor, operation_id=operation_id)
    )


@router.patch("/planned-operations/{operation_id}", response_model=PlannedOperationPublic)
async def update_operation(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    operation_id: uuid.UUID,
    body: PlannedOperationUpdate,
    if_match: IfMatch = None,
) -> PlannedOperationPublic:
    """Change the plan (place, window, status); a changed plan is deconflicted again."""
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: operations.update_operation(
            session,
            actor=actor,
            operation_id=operation_id,
            data=body.model_copy(update={"expected_version": version}),
        ),
    )
    return tag_response(response, updated)


@router.get("/deconfliction-hits", response_model=list[HitPublic])
async def list_hits(
    session: SessionDep, actor: ActorDep, filters: Annotated[HitFilter, Query()]
) -> list[HitPublic]:
    """Your agency's hits: the other agency, the kind of match and whom to contact."""
    return await service.list_hits(session, actor=actor, filters=filters)


@router.get("/deconfliction-hits/{hit_id}", response_model=HitPublic)
async def get_hit(session: SessionDep, actor: ActorDep, hit_id: uuid.UUID) -> HitPublic:
    return await service.get_hit(session, actor=actor, hit_id=hit_id)


@router.post("/deconfliction-hits/{hit_id}/acknowledge", response_model=HitPublic)
async def acknowledge_hit(session: SessionDep, actor: ActorDep, hit_id: uuid.UUID) -> HitPublic:
    return await service.acknowledge_hit(session, actor=actor, hit_id=hit_id)


@router.post("/deconfliction-hits/{hit_id}/resolve", response_model=HitPublic)
async def resolve_hit(session: SessionDep, actor: ActorDep, hit_id: uuid.UUID, body: HitResolve) -> HitPublic:
    return await service.resolve_hit(session, actor=actor, hit_id=hit_id, data=body)
