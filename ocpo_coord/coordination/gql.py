"""GraphQL: the responsibility matrix and transfers of responsibility."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.coordination import service
from ocpo_coord.coordination.schemas import (
    Gap,
    MatrixCell,
    MatrixFilter,
    MatrixRow,
    Overlap,
    ResponsibilityMatrix,
    ResponsibilityPublic,
    TransferCreate,
    TransferDecision,
    TransferFilter,
    TransferPublic,
)
from ocpo_coord.gql.common import (
    Connection,
    ErrorTypes,
    connection,
    convert_input,
    described_field,
    from_model,
    input_model,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.models.enums import TransferStatus


@spy.type(model=ResponsibilityPublic, all_fields=True, name="Responsibility")
class ResponsibilityType:
    id: strawberry.ID


@spy.type(model=MatrixCell, all_fields=True, name="MatrixCell")
class MatrixCellType:
    pass


@spy.type(model=MatrixRow, all_fields=True, name="MatrixRow")
class MatrixRowType:
    pass


@spy.type(model=Overlap, all_fields=True, name="ResponsibilityOverlap")
class OverlapType:
    pass


@spy.type(model=Gap, all_fields=True, name="ResponsibilityGap")
class GapType:
    pass


@spy.type(model=ResponsibilityMatrix, all_fields=True, name="ResponsibilityMatrix")
class ResponsibilityMatrixType:
    pass


@spy.type(model=TransferPublic, all_fields=True, name="ResponsibilityTransfer")
class TransferType:
    id: strawberry.ID


@spy.input(model=TransferCreate, all_fields=True, name="OfferTransferInput")
class OfferTransferInput:
    pass


@spy.input(model=TransferDecision, all_fields=True, name="TransferDecisionInput")
class TransferDecisionInput:
    id: strawberry.ID


@strawberry.type
class TransferPayload:
    transfer: TransferType


TransferResult = Annotated[TransferPayload | ErrorTypes, strawberry.union("TransferResult")]


@strawberry.type
class CoordinationQuery:
    @described_field("Activity areas x agencies of a theatre on a day, with overlapping leads and gaps.")
    async def responsibility_matrix(
        self, info: GraphQLInfo, theatre: str, region: str | None = None, on: date | None = None
    ) -> ResponsibilityMatrixType:
        filters = convert_input(lambda: MatrixFilter(theatre=theatre, region=region, on=on))
        result = await service.responsibility_matrix(
            info.context.session, actor=info.context.require_actor(), filters=filters
        )
        return ResponsibilityMatrixType.from_pydantic(result)

    @described_field("Transfers your agency offered or was offered, newest offer first.")
    async def responsibility_transfers(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        status: TransferStatus | None = None,
    ) -> Connection[TransferType]:
        page = await service.page_transfers(
            info.context.session,
            actor=info.context.require_actor(),
            filters=TransferFilter(status=status),
            first=first,
            after=after,
        )
        return connection(page, from_model(TransferType))


Decide = Callable[..., Awaitable[TransferPublic]]


async def _decide(info: GraphQLInfo, input: TransferDecisionInput, decide: Decide) -> TransferResult:
    async def run(actor: Actor) -> TransferPayload:
        decision = input_model(info, input, TransferDecision)
        public = await decide(
            info.context.session, actor=actor, transfer_id=parse_id(input.id, "transfer"), decision=decision
        )
        return TransferPayload(transfer=TransferType.from_pydantic(public))

    return await mutate(info, run)


@strawberry.type
class CoordinationMutation:
    @strawberry.mutation
    async def offer_responsibility_transfer(
        self, info: GraphQLInfo, input: OfferTransferInput
    ) -> TransferResult:
        async def run(actor: Actor) -> TransferPayload:
            data = input_model(info, input, TransferCreate)
            public = await service.offer_transfer(info.context.session, actor=actor, data=data)
            return TransferPayload(transfer=TransferType.from_pydantic(public))

        return await mutate(info, run)

    @strawberry.mutation
    async def accept_responsibility_transfer(
        self, info: GraphQLInfo, input: TransferDecisionInput
    ) -> TransferResult:
        return await _decide(info, input, service.accept_transfer)

    @strawberry.mutation
    async def decline_responsibility_transfer(
        self, info: GraphQLInfo, input: TransferDecisionInput
    ) -> TransferResult:
        return await _decide(info, input, service.decline_transfer)

    @strawberry.mutation
    async def withdraw_responsibility_transfer(
        self, info: GraphQLInfo, input: TransferDecisionInput
    ) -> TransferResult:
        return await _decide(info, input, service.withdraw_transfer)
