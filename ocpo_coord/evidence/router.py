"""REST: /api/v1/evidence."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import CursorQuery, LimitQuery, ListResponse, envelope
from ocpo_coord.evidence import service
from ocpo_coord.evidence.schemas import EvidenceCreate, EvidencePublic, EvidenceUpdate

router = APIRouter(prefix="/evidence", tags=["evidence"])


@router.get("", response_model=ListResponse[EvidencePublic])
async def list_evidence(
    session: SessionDep,
    actor: ActorDep,
    case_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: LimitQuery = 50,
    after: CursorQuery = None,
) -> ListResponse[EvidencePublic]:
    return envelope(
        await service.list_evidence(session, actor=actor, case_id=case_id, first=limit, after=after)
    )


@router.post("", response_model=EvidencePublic, status_code=status.HTTP_201_CREATED)
async def create_evidence(session: SessionDep, actor: ActorDep, body: EvidenceCreate) -> EvidencePublic:
    return await service.create_evidence(session, actor=actor, data=body)


@router.get("/{evidence_id}", response_model=EvidencePublic)
async def get_evidence(session: SessionDep, actor: ActorDep, evidence_id: uuid.UUID) -> EvidencePublic:
    return await service.get_evidence(session, actor=actor, evidence_id=evidence_id)


@router.patch("/{evidence_id}", response_model=EvidencePublic)
async def update_evidence(
    session: SessionDep, actor: ActorDep, evidence_id: uuid.UUID, body: EvidenceUpdate
) -> EvidencePublic:
    return await service.update_evidence(session, actor=actor, evidence_id=evidence_id, data=body)
