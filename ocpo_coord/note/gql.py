"""GraphQL: case notes."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import ErrorTypes, Node, input_model, partial_input
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import node_type
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


@strawberry.type
class NoteMutation:
    @strawberry.mutation
    async def create_note(self, info: GraphQLInfo, input: CreateNoteInput) -> NoteResult:
        async def run(actor: Actor) -> NotePayload:
            data = input_model(info, input, NoteCreate)
            return NotePayload(
                note=Note.from_pydantic(
                    await service.create_note(info.context.session, actor=actor, data=data)
                )
            )

        return await mutate(info, run)

    @strawberry.mutation
    async def update_note(self, info: GraphQLInfo, input: UpdateNoteInput) -> NoteResult:
        async def run(actor: Actor) -> NotePayload:
            data = input_model(info, input, NoteUpdate, partial=True)
            updated = await service.update_note(
                info.context.session, actor=actor, note_id=parse_id(input.id, "note"), data=data
            )
            return NotePayload(note=Note.from_pydantic(updated))

        return await mutate(info, run)
