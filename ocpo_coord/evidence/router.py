"""REST: /api/v1/evidence."""

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import CursorQuery, LimitQuery, ListResponse, envelope
from ocpo_coord.config import get_settings
from ocpo_coord.evidence import service
from ocpo_coord.evidence.schemas import EvidenceCreate, EvidencePublic, EvidenceUpdate
from ocpo_coord.evidence.store import FileStore

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


@router.put(
    "/{evidence_id}/file",
    response_model=EvidencePublic,
    # Read as a stream, so FastAPI cannot see it: described here for clients and generators.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_evidence_file(
    session: SessionDep, actor: ActorDep, request: Request, response: Response, evidence_id: uuid.UUID
) -> EvidencePublic:
    """The file's bytes as the request body (any content type); they must hash to the
    item's recorded SHA-256."""
    updated = await service.attach_file(
        session,
        actor=actor,
        evidence_id=evidence_id,
        chunks=request.stream(),
        store=FileStore.configured(),
        limit=get_settings().max_file_bytes,
    )
    return tag_response(response, updated)


@router.get("/{evidence_id}/file", response_class=FileResponse)
async def get_evidence_file(session: SessionDep, actor: ActorDep, evidence_id: uuid.UUID) -> FileResponse:
    public, path = await service.open_file(
        session, actor=actor, evidence_id=evidence_id, store=FileStore.configured()
    )
    assert public.sha256 is not None
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=public.file_name or public.sha256,
        # RFC 9530: the client can check what it received against the recorded digest.
        headers={"Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(public.sha256)).decode()}:"},
    )
