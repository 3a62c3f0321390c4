"""REST: /api/v1/notes, and a case's timeline at /api/v1/cases/{id}/notes."""

import uuid

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from ocpo_coord.api.concurrency import IfMatch, conditional, tag_response
from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.idempotency import IdempotencyKey, idempotent_create
from ocpo_coord.api.pagination import CursorQuery, LimitQuery, ListResponse, envelope
from ocpo_coord.note import service
from ocpo_coord.note.schemas import NoteCreate, NotePublic, NoteUpdate

router = APIRouter(tags=["notes"])


@router.get("/cases/{case_id}/notes", response_model=ListResponse[NotePublic])
async def list_case_notes(
    session: SessionDep,
    actor: ActorDep,
    case_id: uuid.UUID,
    limit: LimitQuery = 50,
    after: CursorQuery = None,
) -> ListResponse[NotePublic]:
    return envelope(await service.list_notes(session, actor=actor, case_id=case_id, first=limit, after=after))


@router.post("/notes", response_model=NotePublic, status_code=status.HTTP_201_CREATED)
async def create_note(
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    response: Response,
    body: NoteCreate,
    idempotency_key: IdempotencyKey = None,
) -> NotePublic | JSONResponse:
    created = await idempotent_create(
        session,
        actor=actor,
        request=request,
        key=idempotency_key,
        body=body,
        create=lambda: service.create_note(session, actor=actor, data=body),
    )
    return created if isinstance(created, JSONResponse) else tag_response(response, created)


@router.get("/notes/{note_id}", response_model=NotePublic)
async def get_note(
    session: SessionDep, actor: ActorDep, response: Response, note_id: uuid.UUID
) -> NotePublic:
    return tag_response(response, await service.read_note(session, actor=actor, note_id=note_id))


@router.patch("/notes/{note_id}", response_model=NotePublic)
async def update_note(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    note_id: uuid.UUID,
    body: NoteUpdate,
    if_match: IfMatch = None,
) -> NotePublic:
    updated = await conditional(
        if_match,
        body.expected_version,
        lambda version: service.update_note(
            session, actor=actor, note_id=note_id, data=body.model_copy(update={"expected_version": version})
        ),
    )
    return tag_response(response, updated)
