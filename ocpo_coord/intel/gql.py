"""GraphQL: intelligence items."""

from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import (
    Connection,
    ErrorTypes,
    Node,
    asks_total,
    connection,
    described_field,
    from_model,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import graphql_type, node_type
from ocpo_coord.intel import service
from ocpo_coord.intel.schemas import (
    IntelItemCreate,
    IntelItemFilter,
    IntelItemPublic,
    IntelItemUpdate,
    TearLineCreate,
)
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings

if TYPE_CHECKING:
    from ocpo_coord.case.gql import Case

CASE = Annotated["Case", strawberry.lazy("ocpo_coord.case.gql")]


@node_type(RecordKind.INTEL_ITEM)
@spy.type(model=IntelItemPublic, all_fields=True, name="IntelItem")
class IntelItem(Node):
    id: strawberry.ID
    markings: Markings

    @described_field("Linked cases you may read.")
    async def cases(self, info: GraphQLInfo) -> list[CASE]:
        found = await info.context.loaders.records(RecordKind.CASE).load_many(self.case_ids)  # type: ignore[attr-defined]
        case = graphql_type(RecordKind.CASE)
        return [case.from_pydantic(c) for c in found if c is not None]


@spy.input(model=IntelItemCreate, all_fields=True, name="CreateIntelItemInput")
class CreateIntelItemInput:
    pass


@partial_input
@spy.input(model=IntelItemUpdate, all_fields=True, name="UpdateIntelItemInput")
class UpdateIntelItemInput:
    id: strawberry.ID


@spy.input(model=IntelItemFilter, all_fields=True, name="IntelItemFilter")
class IntelItemFilterInput:
    pass


@spy.input(model=TearLineCreate, all_fields=True, name="PublishTearLineInput")
class PublishTearLineInput:
    id: strawberry.ID


@strawberry.type
class IntelItemPayload:
    intel_item: IntelItem


IntelItemResult = Annotated[IntelItemPayload | ErrorTypes, strawberry.union("IntelItemResult")]


@strawberry.type
class IntelQuery:
    @described_field("Intelligence items you may read, newest first.")
    async def intel_items(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        filter: IntelItemFilterInput | None = None,
    ) -> Connection[IntelItem]:
        filters = input_model(info, filter, IntelItemFilter) if filter else IntelItemFilter()
        page = await service.list_intel_items(
            info.context.session,
            actor=info.context.require_actor(),
            filters=filters,
            first=first,
            after=after,
            count=asks_total(info),
        )
        return connection(page, from_model(IntelItem))

    @strawberry.field
    async def intel_item(self, info: GraphQLInfo, id: strawberry.ID) -> IntelItem | None:
        public = await service.read_intel_item(
            info.context.session,
            actor=info.context.require_actor(),
            item_id=parse_id(id, "intelligence item"),
        )
        return IntelItem.from_pydantic(public)


@strawberry.type
class IntelMutation:
    @strawberry.mutation
    async def create_intel_item(self, info: GraphQLInfo, input: CreateIntelItemInput) -> IntelItemResult:
        async def run(actor: Actor) -> IntelItemPayload:
            data = input_model(info, input, IntelItemCreate)
            created = await service.create_intel_item(info.context.session, actor=actor, data=data)
            return IntelItemPayload(intel_item=IntelItem.from_pydantic(created))

        return await mutate(info, run)

    @strawberry.mutation
    async def update_intel_item(self, info: GraphQLInfo, input: UpdateIntelItemInput) -> IntelItemResult:
        async def run(actor: Actor) -> IntelItemPayload:
            data = input_model(info, input, IntelItemUpdate, partial=True)
            item_id = parse_id(input.id, "intelligence item")
            updated = await service.update_intel_item(
                info.context.session, actor=actor, item_id=item_id, data=data
            )
            return IntelItemPayload(intel_item=IntelItem.from_pydantic(updated))

        return await mutate(info, run)

    @strawberry.mutation
    async def publish_tear_line(self, info: GraphQLInfo, input: PublishTearLineInput) -> IntelItemResult:
        # A sanitised version for wider release; its readers never reach the original.
        async def run(actor: Actor) -> IntelItemPayload:
            data = input_model(info, input, TearLineCreate)
            item_id = parse_id(input.id, "intelligence item")
            created = await service.publish_tear_line(
                info.context.session, actor=actor, item_id=item_id, data=data
            )
            return IntelItemPayload(intel_item=IntelItem.from_pydantic(created))

        return await mutate(info, run)
