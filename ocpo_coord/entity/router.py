"""REST: /api/v1/entities."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import ListResponse, PageParams, envelope
from ocpo_coord.entity import bulk, service
from ocpo_coord.entity.schemas import (
    EntityCreate,
    EntityFilter,
    EntityPublic,
    EntityUpdate,
    SelectorBulkCreate,
    SelectorBulkResult,
)


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
async def create_entity(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: EntityCreate,
    idempotency_key: IdempotencyKey = None,
) -> EntityPublic | JSONResponse:
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: service.create_entity(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/{entity_id}", response_model=EntityPublic)
async def get_entity(
    session: SessionDep, actor: ActorDep, response: Response, entity_id: uuid.UUID
) -> EntityPublic:
    return tag_response(response, await service.read_entity(session, actor=actor, entity_id=entity_id))


@router.patch("/{entity_id}", response_model=EntityPublic)
async def update_entity(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    entity_id: uuid.UUID,
    body: EntityUpdate,
    if_match: IfMatch = None,
) -> EntityPublic:
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: service.update_entity(
            session,
            actor=actor,
            entity_id=entity_id,
            data=body.model_copy(update={"expected_version": version}),
        ),
    )
    return tag_response(response, updated)


@router.post("/{entity_id}/selectors", response_model=SelectorBulkResult)
async def add_selectors(
    session: SessionDep, actor: ActorDep, entity_id: uuid.UUID, body: SelectorBulkCreate
) -> SelectorBulkResult:
    """Attach a list of selectors (a phone's contacts, a list of plates) to the entity:
    all or none, and those it already holds are not added again."""
    return await bulk.add_selectors(session, actor=actor, entity_id=entity_id, data=body)
