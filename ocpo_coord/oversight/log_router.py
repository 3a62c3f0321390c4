"""REST: /api/v1/audit, the log's checkpoints, proofs and witnesses' cosignatures.

Checkpoints, keys and proofs are served as the C2SP text formats, for tools that
check them; the rest as JSON.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.audit import proofs
from ocpo_coord.audit.schemas_log import CosignatureIn, CosignaturesAccepted, CosigningPublic

router = APIRouter(prefix="/audit", tags=["audit"])
# Sizes are stored as 64-bit integers.
_MAX_SIZE = 2**63 - 1
_TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses=_TEXT,
    description="The latest signed checkpoint (C2SP tlog-checkpoint in a signed note), with the "
    "witnesses' cosignatures.",
)
async def get_checkpoint(session: SessionDep, actor: ActorDep) -> PlainTextResponse:
    return PlainTextResponse((await proofs.latest_checkpoint(session)).note)


@router.get(
    "/log-key",
    response_class=PlainTextResponse,
    responses=_TEXT,
    description="The log's verifier key (C2SP signed-note vkey), to check its checkpoints.",
)
async def get_log_key(actor: ActorDep) -> PlainTextResponse:
    return PlainTextResponse(proofs.log_key() + "\n")


@router.get(
    "/entries/{entry_id}/proof",
    response_class=PlainTextResponse,
    responses=_TEXT,
    description="The entry's inclusion proof (C2SP tlog-proof), for those who may read the entry.",
)
async def get_inclusion_proof(
    session: SessionDep,
    actor: ActorDep,
    entry_id: uuid.UUID,
    size: Annotated[
        int | None, Query(ge=1, le=_MAX_SIZE, description="A checkpoint's size; the latest by default.")
    ] = None,
) -> PlainTextResponse:
    proof = await proofs.inclusion_proof(session, actor=actor, entry_id=entry_id, size=size)
    return PlainTextResponse(proof)


@router.get(
    "/consistency",
    response_class=PlainTextResponse,
    responses=_TEXT,
    description="RFC 9162 consistency proof from the tree of size `first` to the tree of size "
    "`second` (the latest checkpoint's by default): one base64 hash per line.",
)
async def get_consistency_proof(
    session: SessionDep,
    actor: ActorDep,
    first: Annotated[int, Query(ge=0, le=_MAX_SIZE)],
    second: Annotated[int | None, Query(ge=0, le=_MAX_SIZE)] = None,
) -> PlainTextResponse:
    return PlainTextResponse(await proofs.consistency_proof(session, first=first, second=second))


@router.post("/cosignatures", response_model=CosignaturesAccepted)
async def post_cosignatures(
    session: SessionDep, actor: ActorDep, body: CosignatureIn
) -> CosignaturesAccepted:
    return await proofs.add_cosignatures(session, actor=actor, note=body.note)


@router.get(
    "/cosignatures", response_model=list[CosigningPublic], description="Which witness cosigned which size."
)
async def get_cosignatures(
    session: SessionDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CosigningPublic]:
    return await proofs.list_cosignings(session, limit=limit)
