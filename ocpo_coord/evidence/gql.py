"""GraphQL: evidence and documents."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.evidence import service
from ocpo_coord.evidence.schemas import (
    CustodyEventPublic,
    CustodyTransfer,
    EvidenceCreate,
    EvidencePublic,
    EvidenceUpdate,
)
from ocpo_coord.gql.common import ErrorTypes, Node, input_model, partial_input
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import node_type
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings


@spy.type(model=CustodyEventPublic, all_fields=True, name="CustodyEvent")
class CustodyEvent:
    pass


@node_type(RecordKind.EVIDENCE)
@spy.type(model=EvidencePublic, all_fields=True, name="Evidence")
class Evidence(Node):
    id: strawberry.ID
    markings: Markings


@spy.input(model=CustodyTransfer, all_fields=True, name="CustodyTransferInput")
class CustodyTransferInput:
    pass


@spy.input(model=EvidenceCreate, all_fields=True, name="CreateEvidenceInput")
class CreateEvidenceInput:
    pass


@partial_input
@spy.input(model=EvidenceUpdate, all_fields=True, name="UpdateEvidenceInput")
class UpdateEvidenceInput:
    id: strawberry.ID


@strawberry.type
class EvidencePayload:
    evidence: Evidence


EvidenceResult = Annotated[EvidencePayload | ErrorTypes, strawberry.union("EvidenceResult")]


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation
    async def create_evidence(self, info: GraphQLInfo, input: CreateEvidenceInput) -> EvidenceResult:
        async def run(actor: Actor) -> EvidencePayload:
            data = input_model(info, input, EvidenceCreate)
            created = await service.create_evidence(info.context.session, actor=actor, data=data)
            return EvidencePayload(evidence=Evidence.from_pydantic(created))

        return await mutate(info, run)

    @strawberry.mutation
    async def update_evidence(self, info: GraphQLInfo, input: UpdateEvidenceInput) -> EvidenceResult:
        async def run(actor: Actor) -> EvidencePayload:
            data = input_model(info, input, EvidenceUpdate, partial=True)
            updated = await service.update_evidence(
                info.context.session, actor=actor, evidence_id=parse_id(input.id, "evidence"), data=data
            )
            return EvidencePayload(evidence=Evidence.from_pydantic(updated))

        return await mutate(info, run)
