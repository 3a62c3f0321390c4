"""REST: /api/v1/entities."""

import uuid

from fastapi import APIRouter

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.records import Listing, RecordRoutes, add_listing, add_record_routes
from ocpo_coord.entity import bulk, service
from ocpo_coord.entity.schemas import (
    EntityCreate,
    EntityFilter,
    EntityPublic,
    EntityUpdate,
    SelectorBulkCreate,
    SelectorBulkResult,
)

router = APIRouter(prefix="/entities", tags=["entities"])


add_listing(router, "", EntityPublic, Listing("list_entities", EntityFilter, service.list_entities))
add_record_routes(
    router,
    RecordRoutes(
        "entity",
        "entity_id",
        EntityPublic,
        EntityCreate,
        EntityUpdate,
        create=service.create_entity,
        read=service.KIND.read,
        update=service.update_entity,
    ),
)


@router.post("/{entity_id}/selectors", response_model=SelectorBulkResult)
async def add_selectors(
    session: SessionDep, actor: ActorDep, entity_id: uuid.UUID, body: SelectorBulkCreate
) -> SelectorBulkResult:
    """Attach a list of selectors (a phone's contacts, a list of plates) to the entity:
    all or none, and those it already holds are not added again."""
    return await bulk.add_selectors(session, actor=actor, entity_id=entity_id, data=body)
