"""REST: /api/v1/intel-items."""

import uuid

from fastapi import APIRouter, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.records import Listing, RecordRoutes, add_listing, add_record_routes
from ocpo_coord.intel import service
from ocpo_coord.intel.schemas import (
    IntelItemCreate,
    IntelItemFilter,
    IntelItemPublic,
    IntelItemUpdate,
    TearLineCreate,
)

router = APIRouter(prefix="/intel-items", tags=["intelligence"])

add_listing(
    router, "", IntelItemPublic, Listing("list_intel_items", IntelItemFilter, service.list_intel_items)
)
add_record_routes(
    router,
    RecordRoutes(
        "intel_item",
        "item_id",
        IntelItemPublic,
        IntelItemCreate,
        IntelItemUpdate,
        create=service.create_intel_item,
        read=service.KIND.read,
        update=service.update_intel_item,
    ),
)


@router.post("/{item_id}/tear-lines", response_model=IntelItemPublic, status_code=status.HTTP_201_CREATED)
async def publish_tear_line(
    session: SessionDep, actor: ActorDep, item_id: uuid.UUID, body: TearLineCreate
) -> IntelItemPublic:
    return await service.publish_tear_line(session, actor=actor, item_id=item_id, data=body)
