"""REST: /api/v1/access-requests."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.access import service
from ocpo_coord.access.schemas import (
    AccessDecision,
    AccessRequestCreate,
    AccessRequestFilter,
    AccessRequestPublic,
)
from ocpo_coord.api.deps import ActorDep, SessionDep

router = APIRouter(prefix="/access-requests", tags=["access requests"])


@router.post(
    "",
    response_model=AccessRequestPublic,
    status_code=status.HTTP_202_ACCEPTED,
    description="Ask the owner for access. The answer is the same whether or not the record exists.",
)
async def request_access(
    session: SessionDep, actor: ActorDep, body: AccessRequestCreate
) -> AccessRequestPublic:
    return await service.request_access(session, actor=actor, data=body)


@router.get("", response_model=list[AccessRequestPublic])
async def list_requests(
    session: SessionDep, actor: ActorDep, filters: Annotated[AccessRequestFilter, Query()]
) -> list[AccessRequestPublic]:
    return await service.list_requests(session, actor=actor, filters=filters)


@router.post("/{request_id}/approve", response_model=AccessRequestPublic)
async def approve(
    session: SessionDep, actor: ActorDep, request_id: uuid.UUID, body: AccessDecision
) -> AccessRequestPublic:
    return await service.approve(session, actor=actor, request_id=request_id, decision=body)


@router.post("/{request_id}/refuse", response_model=AccessRequestPublic)
async def refuse(
    session: SessionDep, actor: ActorDep, request_id: uuid.UUID, body: AccessDecision
) -> AccessRequestPublic:
    return await service.refuse(session, actor=actor, request_id=request_id, decision=body)


@router.post("/{request_id}/withdraw", response_model=AccessRequestPublic)
async def withdraw(session: SessionDep, actor: ActorDep, request_id: uuid.UUID) -> AccessRequestPublic:
    return await service.withdraw(session, actor=actor, request_id=request_id)
