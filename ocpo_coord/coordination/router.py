"""REST: /api/v1/responsibilities and /api/v1/responsibility-transfers."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.coordination import service
from ocpo_coord.coordination.schemas import (
    MatrixFilter,
    ResponsibilityMatrix,
    TransferCreate,
    TransferDecision,
    TransferFilter,
    TransferPublic,
)

router = APIRouter(tags=["coordination"])


@router.get("/responsibilities/matrix", response_model=ResponsibilityMatrix)
async def responsibility_matrix(
    session: SessionDep, actor: ActorDep, filters: Annotated[MatrixFilter, Query()]
) -> ResponsibilityMatrix:
    """Activity areas x agencies of a theatre on a day, with overlapping leads and gaps."""
    return await service.responsibility_matrix(session, actor=actor, filters=filters)


@router.get("/responsibility-transfers", response_model=list[TransferPublic])
async def list_transfers(
    session: SessionDep, actor: ActorDep, filters: Annotated[TransferFilter, Query()]
) -> list[TransferPublic]:
    return await service.list_transfers(session, actor=actor, filters=filters)


@router.post("/responsibility-transfers", response_model=TransferPublic, status_code=status.HTTP_201_CREATED)
async def offer_transfer(session: SessionDep, actor: ActorDep, body: TransferCreate) -> TransferPublic:
    """Offer one of your agency's responsibilities to another agency from an effective date."""
    return await service.offer_transfer(session, actor=actor, data=body)


@router.post("/responsibility-transfers/{transfer_id}/accept", response_model=TransferPublic)
async def accept_transfer(
    session: SessionDep, actor: ActorDep, transfer_id: uuid.UUID, body: TransferDecision
) -> TransferPublic:
    return await service.accept_transfer(session, actor=actor, transfer_id=transfer_id, decision=body)


@router.post("/responsibility-transfers/{transfer_id}/decline", response_model=TransferPublic)
async def decline_transfer(
    session: SessionDep, actor: ActorDep, transfer_id: uuid.UUID, body: TransferDecision
) -> TransferPublic:
    return await service.decline_transfer(session, actor=actor, transfer_id=transfer_id, decision=body)


@router.post("/responsibility-transfers/{transfer_id}/withdraw", response_model=TransferPublic)
async def withdraw_transfer(
    session: SessionDep, actor: ActorDep, transfer_id: uuid.UUID, body: TransferDecision
) -> TransferPublic:
    return await service.withdraw_transfer(session, actor=actor, transfer_id=transfer_id, decision=body)
