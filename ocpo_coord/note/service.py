"""Notes on a case's timeline."""

import uuid

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.directory import user_logins
from ocpo_coord.context import Actor
from ocpo_coord.models import Note, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.note.schemas import NoteCreate, NotePublic, NoteUpdate
from ocpo_coord.records.children import parent_case
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    copied_columns,
    create_record,
    markings_public,
)
from ocpo_coord.visibility.pagination import Page
from ocpo_coord.visibility.repository import RecordRepository, agency_codes, releases_for

# The columns NotePublic shows as they are.
_COPIED = copied_columns(NotePublic, Note)


def _repo(session: AsyncSession, actor: Actor) -> RecordRepository[Note]:
    return RecordRepository(session, Note, RecordKind.NOTE, principal=actor.principal, now=actor.now)


async def to_public(session: AsyncSession, rows: list[tuple[Note, Record]]) -> list[NotePublic]:
    codes = await agency_codes(session)
    releases = await releases_for(session, [note.id for note, _ in rows])
    authors = await user_logins(session, {r.created_by_id for _, r in rows if r.created_by_id})
    return [
        NotePublic(
            **_COPIED(note, record),
            case_id=record.parent_id,
            author=authors.get(record.created_by_id) if record.created_by_id else None,
            markings=markings_public(record, releases.get(note.id, []), codes),
        )
        for note, record in rows
    ]


KIND = declare(
    RecordKindSpec(
        RecordKind.NOTE,
        "note",
        repository=_repo,
        assembler=lambda _actor: to_public,
    )
)


async def list_notes(
    session: AsyncSession, *, actor: Actor, case_id: uuid.UUID, first: int, after: str | None
) -> Page[NotePublic]:
    statement = _repo(session, actor).listing_statement().where(col(Record.parent_id) == case_id)
    return await KIND.page(session, actor, statement, first=first, after=after, filtered=True)


async def create_note(session: AsyncSession, *, actor: Actor, data: NoteCreate) -> NotePublic:
    case = await parent_case(session, actor, data.case_id)
    record = await create_record(
        session,
        actor=actor,
        kind=RecordKind.NOTE,
        markings=data.markings,
        theatre_id=case.theatre_id,
        parent=case,
    )
    session.add(Note(id=record.id, body=data.body))
    return await KIND.created(session, actor, record.id)


async def update_note(
    session: AsyncSession, *, actor: Actor, note_id: uuid.UUID, data: NoteUpdate
) -> NotePublic:
    async def apply(note: Note, _record: Record) -> None:
        if data.body is not None:
            note.body = data.body

    _, _, updated = await KIND.update(session, actor, note_id, data, apply)
    return updated
