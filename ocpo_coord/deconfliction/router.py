"""REST: /api/v1/planned-operations and /api/v1/deconfliction-hits."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.records import Listing, RecordRoutes, add_listing, add_record_routes
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


add_listing(
    router,
    "/planned-operations",
    PlannedOperationPublic,
    Listing("list_operations", PlannedOperationFilter, operations.list_operations),
)
add_record_routes(
    router,
    RecordRoutes(
        "operation",
        "operation_id",
        PlannedOperationPublic,
        PlannedOperationCreate,
        PlannedOperationUpdate,
        create=operations.create_operation,
        read=operations.KIND.read,
        update=operations.update_operation,
        path="/planned-operations",
        create_description="Plan an operation; a collision with another agency's raises a hit for both.",
        update_description="Change the plan (place, window, status); a changed plan is deconflicted again.",
    ),
)


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
