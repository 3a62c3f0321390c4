"""REST: /api/v1/evidence."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
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
async def create_evidence(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: EvidenceCreate,
    idempotency_key: IdempotencyKey = None,
) -> EvidencePublic | JSONResponse:
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: service.create_evidence(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/{evidence_id}", response_model=EvidencePublic)
async def get_evidence(
    session: SessionDep, actor: ActorDep, response: Response, evidence_id: uuid.UUID
) -> EvidencePublic:
    return tag_response(response, await service.read_evidence(session, actor=actor, evidence_id=evidence_id))


@router.patch("/{evidence_id}", response_model=EvidencePublic)
async def update_evidence(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    evidence_id: uuid.UUID,
    body: EvidenceUpdate,
    if_match: IfMatch = None,
) -> EvidencePublic:
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: service.update_evidence(
            session,
            actor=actor,
            evidence_id=evidence_id,
            data=body.model_copy(update={"expected_version": version}),
        ),
    )
    return tag_response(response, updated)
