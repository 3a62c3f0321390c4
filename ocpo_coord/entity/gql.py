"""GraphQL: entities and their selectors."""

from typing import Annotated

import strawberry
import strawberry.experimental.pydantic as spy
from strawberry.scalars import JSON

from ocpo_coord.context import Actor
from ocpo_coord.entity import bulk, service
from ocpo_coord.entity.schemas import (
    EntityCreate,
    EntityFilter,
    EntityLinkInput,
    EntityLinkPublic,
    EntityPublic,
    EntityUpdate,
    SelectorBulkCreate,
    SelectorBulkResult,
    SelectorInput,
    SelectorPublic,
)
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
from ocpo_coord.gql.node import node_type
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.gql import Markings


@spy.type(model=SelectorPublic, all_fields=True, name="Selector")
class Selector:
    pass


@spy.type(model=EntityLinkPublic, all_fields=True, name="EntityLink")
class EntityLink:
    pass


@node_type(RecordKind.ENTITY)
@spy.type(model=EntityPublic, all_fields=True, name="Entity")
class Entity(Node):
    id: strawberry.ID
    markings: Markings
    attributes: JSON = strawberry.field(description="Free-form attributes: string keys and values.")


@spy.input(model=SelectorInput, all_fields=True, name="SelectorInput")
class SelectorInputType:
    pass


@spy.input(model=EntityLinkInput, all_fields=True, name="EntityLinkInput")
class EntityLinkInputType:
    pass


@spy.input(model=EntityCreate, all_fields=True, name="CreateEntityInput")
class CreateEntityInput:
    attributes: JSON = strawberry.field(default_factory=dict)


@partial_input
@spy.input(model=EntityUpdate, all_fields=True, name="UpdateEntityInput")
class UpdateEntityInput:
    id: strawberry.ID
    attributes: JSON | None = None


@spy.input(model=EntityFilter, all_fields=True, name="EntityFilter")
class EntityFilterInput:
    pass


@spy.input(model=SelectorBulkCreate, all_fields=True, name="AddEntitySelectorsInput")
class AddEntitySelectorsInput:
    entity_id: strawberry.ID


@spy.type(model=SelectorBulkResult, all_fields=True, name="EntitySelectorsAdded")
class EntitySelectorsAdded:
    pass


AddEntitySelectorsResult = Annotated[
    EntitySelectorsAdded | ErrorTypes, strawberry.union("AddEntitySelectorsResult")
]


@strawberry.type
class EntityPayload:
    entity: Entity


EntityResult = Annotated[EntityPayload | ErrorTypes, strawberry.union("EntityResult")]


@strawberry.type
class EntityQuery:
    @described_field("Entities you may read; selector filters match after normalisation.")
    async def entities(
        self,
        info: GraphQLInfo,
        first: int = 50,
        after: str | None = None,
        filter: EntityFilterInput | None = None,
    ) -> Connection[Entity]:
        filters = input_model(info, filter, EntityFilter) if filter else EntityFilter()
        page = await service.list_entities(
            info.context.session,
            actor=info.context.require_actor(),
            filters=filters,
            first=first,
            after=after,
            count=asks_total(info),
        )
        return connection(page, from_model(Entity))


@strawberry.type
class EntityMutation:
    @strawberry.mutation
    async def create_entity(self, info: GraphQLInfo, input: CreateEntityInput) -> EntityResult:
        async def run(actor: Actor) -> EntityPayload:
            data = input_model(info, input, EntityCreate)
            created = await service.create_entity(info.context.session, actor=actor, data=data)
            return EntityPayload(entity=Entity.from_pydantic(created))

        return await mutate(info, run)

    @strawberry.mutation
    async def update_entity(self, info: GraphQLInfo, input: UpdateEntityInput) -> EntityResult:
        async def run(actor: Actor) -> EntityPayload:
            data = input_model(info, input, EntityUpdate, partial=True)
            updated = await service.update_entity(
                info.context.session, actor=actor, entity_id=parse_id(input.id, "entity"), data=data
            )
            return EntityPayload(entity=Entity.from_pydantic(updated))

        return await mutate(info, run)

    @strawberry.mutation
    async def add_entity_selectors(
        self, info: GraphQLInfo, input: AddEntitySelectorsInput
    ) -> AddEntitySelectorsResult:
        """Attach a list of selectors to an entity: all or none, none twice."""

        async def run(actor: Actor) -> EntitySelectorsAdded:
            data = input_model(info, input, SelectorBulkCreate, drop=("entity_id",))
            added = await bulk.add_selectors(
                info.context.session, actor=actor, entity_id=parse_id(input.entity_id, "entity"), data=data
            )
            return EntitySelectorsAdded.from_pydantic(added)

        return await mutate(info, run)
