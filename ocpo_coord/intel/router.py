"""REST: /api/v1/intel-items."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.intel import service
from ocpo_coord.intel.schemas import (
    IntelItemCreate,
    IntelItemFilter,
    IntelItemPublic,
    IntelItemUpdate,
    TearLineCreate,
)


class IntelItemFilterParams(IntelItemFilter, PageParams):
    pass


router = APIRouter(prefix="/intel-items", tags=["intelligence"])


@router.get("", response_model=ListResponse[IntelItemPublic])
async def list_intel_items(
    session: SessionDep,
    actor: ActorDep,
    params: Annotated[IntelItemFilterParams, Query()],
) -> ListResponse[IntelItemPublic]:
    return envelope(
        await service.list_intel_items(
            session,
            actor=actor,
            filters=IntelItemFilter.model_validate(params.filters()),
            first=params.limit,
            after=params.after,
        )
    )


@router.post("", response_model=IntelItemPublic, status_code=status.HTTP_201_CREATED)
async def create_intel_item(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: IntelItemCreate,
    idempotency_key: IdempotencyKey = None,
) -> IntelItemPublic | JSONResponse:
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: service.create_intel_item(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/{item_id}", response_model=IntelItemPublic)
async def get_intel_item(
    session: SessionDep, actor: ActorDep, response: Response, item_id: uuid.UUID
) -> IntelItemPublic:
    return tag_response(response, await service.read_intel_item(session, actor=actor, item_id=item_id))


@router.patch("/{item_id}", response_model=IntelItemPublic)
async def update_intel_item(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    item_id: uuid.UUID,
    body: IntelItemUpdate,
    if_match: IfMatch = None,
) -> IntelItemPublic:
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: service.update_intel_item(
            session, actor=actor, item_id=item_id, data=body.model_copy(update={"expected_version": version})
        ),
    )
    return tag_response(response, updated)


@router.post("/{item_id}/tear-lines", response_model=IntelItemPublic, status_code=status.HTTP_201_CREATED)
async def publish_tear_line(
    session: SessionDep, actor: ActorDep, item_id: uuid.UUID, body: TearLineCreate
) -> IntelItemPublic:
    return await service.publish_tear_line(session, actor=actor, item_id=item_id, data=body)
