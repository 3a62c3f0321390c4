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
    ErrorTypes,
    Node,
    input_model,
    partial_input,
)
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.gql.node import node_type
from ocpo_coord.gql.records import connection_field, create_mutation, update_mutation
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
    entities = connection_field(
        "Entities you may read; selector filters match after normalisation.",
        Entity,
        EntityFilterInput,
        EntityFilter,
        service.list_entities,
    )


def _payload(entity: Entity) -> EntityPayload:
    return EntityPayload(entity=entity)


@strawberry.type
class EntityMutation:
    create_entity = create_mutation(
        _payload, EntityResult, Entity, CreateEntityInput, EntityCreate, service.create_entity
    )

    update_entity = update_mutation(
        _payload,
        EntityResult,
        Entity,
        UpdateEntityInput,
        EntityUpdate,
        "entity",
        "entity_id",
        service.update_entity,
    )

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
