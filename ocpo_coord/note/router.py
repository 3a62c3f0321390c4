"""REST: /api/v1/notes, and a case's timeline at /api/v1/cases/{id}/notes."""

import uuid

from fastapi import APIRouter

from ocpo_coord.api.deps import ActorDep, SessionDep
from ocpo_coord.api.pagination import CursorQuery, LimitQuery, ListResponse, envelope
from ocpo_coord.api.records import RecordRoutes, add_record_routes
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


add_record_routes(
    router,
    RecordRoutes(
        "note",
        "note_id",
        NotePublic,
        NoteCreate,
        NoteUpdate,
        create=service.create_note,
        read=service.KIND.read,
        update=service.update_note,
        path="/notes",
    ),
)
