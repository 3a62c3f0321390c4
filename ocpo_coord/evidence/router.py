"""REST: /api/v1/evidence."""

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from ocpo_coord.api.concurrency import tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import CursorQuery, LimitQuery, ListResponse, envelope
from ocpo_coord.api.records import RecordRoutes, add_record_routes
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


add_record_routes(
    router,
    RecordRoutes(
        "evidence",
        "evidence_id",
        EvidencePublic,
        EvidenceCreate,
        EvidenceUpdate,
        create=service.create_evidence,
        read=service.KIND.read,
        update=service.update_evidence,
    ),
)


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
