"""Notes on a case's timeline."""

import uuid

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.reads import listed
from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import user_logins
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import NotFound
from ocpo_coord.models import Note, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.note.schemas import NoteCreate, NotePublic, NoteUpdate
from ocpo_coord.records.children import parent_case
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    check_version,
    create_record,
    markings_public,
    set_markings,
    touch,
)
from ocpo_coord.visibility.pages import assembled_page
from ocpo_coord.visibility.pagination import Page
from ocpo_coord.visibility.policy import enforce, may_edit
from ocpo_coord.visibility.repository import RecordRepository, agency_codes, releases_for


def _repo(session: AsyncSession, actor: Actor) -> RecordRepository[Note]:
    return RecordRepository(session, Note, RecordKind.NOTE, principal=actor.principal, now=actor.now)


async def to_public(session: AsyncSession, rows: list[tuple[Note, Record]]) -> list[NotePublic]:
    codes = await agency_codes(session)
    releases = await releases_for(session, [note.id for note, _ in rows])
    authors = await user_logins(session, {r.created_by_id for _, r in rows if r.created_by_id})
    return [
        NotePublic(
            id=note.id,
            case_id=record.parent_id,
            body=note.body,
            author=authors.get(record.created_by_id) if record.created_by_id else None,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
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


async def get_note(session: AsyncSession, *, actor: Actor, note_id: uuid.UUID) -> NotePublic:
    return await KIND.get(session, actor, note_id)


async def read_note(session: AsyncSession, *, actor: Actor, note_id: uuid.UUID) -> NotePublic:
    """A read by a person: audited when the record is above UNCLASSIFIED or TLP:CLEAR."""
    return await KIND.read(session, actor, note_id)


async def list_notes(
    session: AsyncSession, *, actor: Actor, case_id: uuid.UUID, first: int, after: str | None
) -> Page[NotePublic]:
    settings = get_settings()
    statement = _repo(session, actor).listing_statement().where(col(Record.parent_id) == case_id)
    return await assembled_page(
        session,
        statement,
        first=first,
        after=after,
        max_page_size=settings.max_page_size,
        count_cap=settings.count_cap,
        assemble=listed(actor, to_public),
        filtered=True,  # a case's own children
        reader=actor.principal,
        now=actor.now,
        kind=RecordKind.NOTE,
    )


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
    await session.flush()
    created = await get_note(session, actor=actor, note_id=record.id)
    await record_event(
        session,
        actor=actor,
        action="note.create",
        record_kind=RecordKind.NOTE,
        record_id=record.id,
        after=created.model_dump(mode="json"),
    )
    return created


async def update_note(
    session: AsyncSession, *, actor: Actor, note_id: uuid.UUID, data: NoteUpdate
) -> NotePublic:
    row = await _repo(session, actor).get_for_update(note_id)
    if row is None:
        raise NotFound("note")
    note, record = row
    enforce(may_edit(actor.principal, record))
    check_version(record, data.expected_version)
    before = (await to_public(session, [row]))[0].model_dump(mode="json")
    if data.body is not None:
        note.body = data.body
    if data.markings is not None:
        await set_markings(session, actor=actor, record=record, markings=data.markings)
    touch(record, actor)
    await session.flush()
    updated = await get_note(session, actor=actor, note_id=note.id)
    await record_event(
        session,
        actor=actor,
        action="note.update",
        record_kind=RecordKind.NOTE,
        record_id=note.id,
        before=before,
        after=updated.model_dump(mode="json"),
    )
    return updated
