"""GraphQL: intelligence items."""

from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry.experimental.pydantic as spy

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import (
    ErrorTypes,
    Node,
    described_field,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import graphql_type, node_type
from ocpo_coord.gql.records import connection_field, create_mutation, record_field, update_mutation
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
    intel_items = connection_field(
        "Intelligence items you may read, newest first.",
        IntelItem,
        IntelItemFilterInput,
        IntelItemFilter,
        service.list_intel_items,
    )

    intel_item = record_field(IntelItem, "intelligence item", service.KIND.read)


def _payload(item: IntelItem) -> IntelItemPayload:
    return IntelItemPayload(intel_item=item)


@strawberry.type
class IntelMutation:
    create_intel_item = create_mutation(
        _payload, IntelItemResult, IntelItem, CreateIntelItemInput, IntelItemCreate, service.create_intel_item
    )

    update_intel_item = update_mutation(
        _payload,
        IntelItemResult,
        IntelItem,
        UpdateIntelItemInput,
        IntelItemUpdate,
        "intelligence item",
        "item_id",
        service.update_intel_item,
    )

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
