"""node(id): any readable record by its UUID; missing and unreadable look the same."""

import strawberry

from ocpo_coord.case import service as case_service
from ocpo_coord.case.gql import Case
from ocpo_coord.deconfliction import operations as operation_service
from ocpo_coord.deconfliction.gql import PlannedOperation
from ocpo_coord.entity import service as entity_service
from ocpo_coord.entity.gql import Entity
from ocpo_coord.evidence import service as evidence_service
from ocpo_coord.evidence.gql import Evidence
from ocpo_coord.exceptions import NotFound
from ocpo_coord.gql.common import Node, described_field
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.intel import service as intel_service
from ocpo_coord.intel.gql import IntelItem
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.note import service as note_service
from ocpo_coord.note.gql import Note
from ocpo_coord.records.repository import readable_record
from ocpo_coord.task import service as task_service
from ocpo_coord.task.gql import Task


async def resolve_node(info: GraphQLInfo, id: strawberry.ID) -> Node:
    actor = info.context.require_actor()
    session = info.context.session
    record_id = parse_id(id, "record")
    # The kind is looked up through the visibility rule, so an unreadable id
    # fails here exactly as a missing one does.
    record = await readable_record(session, actor.principal, actor.now, record_id)
    if record is None:
        raise NotFound("record")
    kind = RecordKind(record.kind)
    if kind is RecordKind.CASE:
        return Case.from_pydantic(await case_service.read_case(session, actor=actor, case_id=record_id))
    if kind is RecordKind.INTEL_ITEM:
        return IntelItem.from_pydantic(
            await intel_service.read_intel_item(session, actor=actor, item_id=record_id)
        )
    if kind is RecordKind.TASK:
        return Task.from_pydantic(await task_service.read_task(session, actor=actor, task_id=record_id))
    if kind is RecordKind.NOTE:
        return Note.from_pydantic(await note_service.read_note(session, actor=actor, note_id=record_id))
    if kind is RecordKind.EVIDENCE:
        return Evidence.from_pydantic(
            await evidence_service.read_evidence(session, actor=actor, evidence_id=record_id)
        )
    if kind is RecordKind.ENTITY:
        return Entity.from_pydantic(
            await entity_service.read_entity(session, actor=actor, entity_id=record_id)
        )
    if kind is RecordKind.PLANNED_OPERATION:
        return PlannedOperation.from_pydantic(
            await operation_service.read_operation(session, actor=actor, operation_id=record_id)
        )
    raise NotFound("record")


@strawberry.type
class NodeQuery:
    @described_field("Any record you may read, by id; null with a not-found error otherwise.")
    async def node(self, info: GraphQLInfo, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)
