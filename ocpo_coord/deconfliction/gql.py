"""GraphQL: planned operations and deconfliction hits."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.deconfliction import operations, service
from ocpo_coord.deconfliction.schemas import (
    HitFilter,
    HitPublic,
    HitResolve,
    PlannedOperationCreate,
    PlannedOperationFilter,
    PlannedOperationPublic,
    PlannedOperationUpdate,
)
from ocpo_coord.gql.common import (
    Connection,
    ErrorTypes,
    Node,
    connection,
    described_field,
    from_model,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import node_type
from ocpo_coord.gql.records import connection_field, create_mutation, record_field, update_mutation
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings


@node_type(RecordKind.PLANNED_OPERATION)
@spy.type(model=PlannedOperationPublic, all_fields=True, name="PlannedOperation")
class PlannedOperation(Node):
    id: strawberry.ID
    markings: Markings


@spy.type(model=HitPublic, all_fields=True, name="DeconflictionHit")
class DeconflictionHit:
    id: strawberry.ID


@spy.input(model=PlannedOperationCreate, all_fields=True, name="CreatePlannedOperationInput")
class CreatePlannedOperationInput:
    pass


@partial_input
@spy.input(model=PlannedOperationUpdate, all_fields=True, name="UpdatePlannedOperationInput")
class UpdatePlannedOperationInput:
    id: strawberry.ID


@spy.input(model=PlannedOperationFilter, all_fields=True, name="PlannedOperationFilter")
class PlannedOperationFilterInput:
    pass


@spy.input(model=HitFilter, all_fields=True, name="DeconflictionHitFilter")
class HitFilterInput:
    pass


@spy.input(model=HitResolve, all_fields=True, name="ResolveDeconflictionHitInput")
class ResolveHitInput:
    id: strawberry.ID


@strawberry.type
class PlannedOperationPayload:
    planned_operation: PlannedOperation


@strawberry.type
class DeconflictionHitPayload:
    hit: DeconflictionHit


PlannedOperationResult = Annotated[
    PlannedOperationPayload | ErrorTypes, strawberry.union("PlannedOperationResult")
]
DeconflictionHitResult = Annotated[
    DeconflictionHitPayload | ErrorTypes, strawberry.union("DeconflictionHitResult")
]


@strawberry.type
class DeconflictionQuery:
    planned_operations = connection_field(
        "Planned operations you may read, newest first.",
        PlannedOperation,
        PlannedOperationFilterInput,
        PlannedOperationFilter,
        operations.list_operations,
    )

    planned_operation = record_field(PlannedOperation, "planned operation", operations.KIND.read)

    @described_field(
        "Your agency's hits, newest first: the other agency, the kind of match, whom to contact."
    )
    async def deconfliction_hits(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        filter: HitFilterInput | None = None,
    ) -> Connection[DeconflictionHit]:
        filters = input_model(info, filter, HitFilter) if filter else HitFilter()
        page = await service.page_hits(
            info.context.session,
            actor=info.context.require_actor(),
            filters=filters,
            first=first,
            after=after,
        )
        return connection(page, from_model(DeconflictionHit))


def _hit_payload(public: HitPublic) -> DeconflictionHitPayload:
    return DeconflictionHitPayload(hit=DeconflictionHit.from_pydantic(public))


def _payload(operation: PlannedOperation) -> PlannedOperationPayload:
    return PlannedOperationPayload(planned_operation=operation)


@strawberry.type
class DeconflictionMutation:
    create_planned_operation = create_mutation(
        _payload,
        PlannedOperationResult,
        PlannedOperation,
        CreatePlannedOperationInput,
        PlannedOperationCreate,
        operations.create_operation,
    )

    update_planned_operation = update_mutation(
        _payload,
        PlannedOperationResult,
        PlannedOperation,
        UpdatePlannedOperationInput,
        PlannedOperationUpdate,
        "planned operation",
        "operation_id",
        operations.update_operation,
    )

    @strawberry.mutation
    async def acknowledge_deconfliction_hit(
        self, info: GraphQLInfo, id: strawberry.ID
    ) -> DeconflictionHitResult:
        async def run(actor: Actor) -> DeconflictionHitPayload:
            hit_id = parse_id(id, "deconfliction hit")
            return _hit_payload(
                await service.acknowledge_hit(info.context.session, actor=actor, hit_id=hit_id)
            )

        return await mutate(info, run)

    @strawberry.mutation
    async def resolve_deconfliction_hit(
        self, info: GraphQLInfo, input: ResolveHitInput
    ) -> DeconflictionHitResult:
        async def run(actor: Actor) -> DeconflictionHitPayload:
            data = input_model(info, input, HitResolve)
            hit_id = parse_id(input.id, "deconfliction hit")
            return _hit_payload(
                await service.resolve_hit(info.context.session, actor=actor, hit_id=hit_id, data=data)
            )

        return await mutate(info, run)
