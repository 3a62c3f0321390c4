"""REST: /api/v1/entities."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.entity import service
from ocpo_coord.entity.schemas import EntityCreate, EntityFilter, EntityPublic, EntityUpdate


class EntityFilterParams(EntityFilter, PageParams):
    pass


router = APIRouter(prefix="/entities", tags=["entities"])


@router.get("", response_model=ListResponse[EntityPublic])
async def list_entities(
    session: SessionDep,
    actor: ActorDep,
    params: Annotated[EntityFilterParams, Query()],
) -> ListResponse[EntityPublic]:
    return envelope(
        await service.list_entities(
            session,
            actor=actor,
            filters=EntityFilter.model_validate(params.filters()),
            first=params.limit,
            after=params.after,
        )
    )


@router.post("", response_model=EntityPublic, status_code=status.HTTP_201_CREATED)
async def create_entity(session: SessionDep, actor: ActorDep, body: EntityCreate) -> EntityPublic:
    return await service.create_entity(session, actor=actor, data=body)


@router.get("/{entity_id}", response_model=EntityPublic)
async def get_entity(session: SessionDep, actor: ActorDep, entity_id: uuid.UUID) -> EntityPublic:
    return await service.get_entity(session, actor=actor, entity_id=entity_id)


@router.patch("/{entity_id}", response_model=EntityPublic)
async def update_entity(
    session: SessionDep, actor: ActorDep, entity_id: uuid.UUID, body: EntityUpdate
) -> EntityPublic:
    return await service.update_entity(session, actor=actor, entity_id=entity_id, data=body)
