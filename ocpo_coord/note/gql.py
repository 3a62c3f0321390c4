"""GraphQL: case notes."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.gql.common import ErrorTypes, Node, partial_input
from ocpo_coord.gql.node import node_type
from ocpo_coord.gql.records import create_mutation, update_mutation
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.note import service
from ocpo_coord.note.schemas import NoteCreate, NotePublic, NoteUpdate
from ocpo_coord.records.gql import Markings


@node_type(RecordKind.NOTE)
@spy.type(model=NotePublic, all_fields=True, name="Note")
class Note(Node):
    id: strawberry.ID
    markings: Markings


@spy.input(model=NoteCreate, all_fields=True, name="CreateNoteInput")
class CreateNoteInput:
    pass


@partial_input
@spy.input(model=NoteUpdate, all_fields=True, name="UpdateNoteInput")
class UpdateNoteInput:
    id: strawberry.ID


@strawberry.type
class NotePayload:
    note: Note


NoteResult = Annotated[NotePayload | ErrorTypes, strawberry.union("NoteResult")]


def _payload(note: Note) -> NotePayload:
    return NotePayload(note=note)


@strawberry.type
class NoteMutation:
    create_note = create_mutation(
        _payload, NoteResult, Note, CreateNoteInput, NoteCreate, service.create_note
    )

    update_note = update_mutation(
        _payload, NoteResult, Note, UpdateNoteInput, NoteUpdate, "note", "note_id", service.update_note
    )
