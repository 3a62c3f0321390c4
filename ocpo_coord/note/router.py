"""REST: /api/v1/notes, and a case's timeline at /api/v1/cases/{id}/notes."""

import uuid

from fastapi import APIRouter, status

from ocpo_coord.api.deps import ActorDep, SessionDep
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
async def create_note(session: SessionDep, actor: ActorDep, body: NoteCreate) -> NotePublic:
    return await service.create_note(session, actor=actor, data=body)


@router.get("/notes/{note_id}", response_model=NotePublic)
async def get_note(session: SessionDep, actor: ActorDep, note_id: uuid.UUID) -> NotePublic:
    return await service.get_note(session, actor=actor, note_id=note_id)


@router.patch("/notes/{note_id}", response_model=NotePublic)
async def update_note(
    session: SessionDep, actor: ActorDep, note_id: uuid.UUID, body: NoteUpdate
) -> NotePublic:
    return await service.update_note(session, actor=actor, note_id=note_id, data=body)
