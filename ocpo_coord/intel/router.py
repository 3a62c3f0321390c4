"""REST: /api/v1/intel-items."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.api.deps import ActorDep, SessionDep
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
async def create_intel_item(session: SessionDep, actor: ActorDep, body: IntelItemCreate) -> IntelItemPublic:
    return await service.create_intel_item(session, actor=actor, data=body)


@router.get("/{item_id}", response_model=IntelItemPublic)
async def get_intel_item(session: SessionDep, actor: ActorDep, item_id: uuid.UUID) -> IntelItemPublic:
    return await service.get_intel_item(session, actor=actor, item_id=item_id)


@router.patch("/{item_id}", response_model=IntelItemPublic)
async def update_intel_item(
    session: SessionDep, actor: ActorDep, item_id: uuid.UUID, body: IntelItemUpdate
) -> IntelItemPublic:
    return await service.update_intel_item(session, actor=actor, item_id=item_id, data=body)


@router.post("/{item_id}/tear-lines", response_model=IntelItemPublic, status_code=status.HTTP_201_CREATED)
async def publish_tear_line(
    session: SessionDep, actor: ActorDep, item_id: uuid.UUID, body: TearLineCreate
) -> IntelItemPublic:
    return await service.publish_tear_line(session, actor=actor, item_id=item_id, data=body)
