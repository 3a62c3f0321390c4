"""GraphQL fields every record kind shares: a filtered connection, one record by id, and
the create and update mutations.

A kind's query and mutation types name these fields and declare what differs: its node
type, inputs, payload and service functions. Service functions are called with keyword
arguments, the record's id by ``id_name``, except a kind's read; inputs are validated by the same pydantic
models the REST API uses.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.types.field import StrawberryField

from ocpo_coord.context import Actor
from ocpo_coord.gql.common import Connection, asks_total, connection, from_model, input_model
from ocpo_coord.gql.context import GraphQLInfo, mutate
from ocpo_coord.gql.ids import parse_id


def _typed(resolver: Callable[..., Any], annotations: dict[str, Any]) -> Callable[..., Any]:
    """strawberry reads a resolver's arguments and type from its annotations."""
    resolver.__annotations__ = annotations
    return resolver


def connection_field(
    description: str,
    node: type[Any],
    filter_input: type[Any],
    filters: type[BaseModel],
    run: Callable[..., Awaitable[Any]],  # (session, *, actor, filters, first, after, count)
) -> StrawberryField:
    async def resolve(
        info: GraphQLInfo, first: int = 50, after: str | None = None, filter: Any = None
    ) -> Any:
        given = input_model(info, filter, filters) if filter else filters()
        page = await run(
            info.context.session,
            actor=info.context.require_actor(),
            filters=given,
            first=first,
            after=after,
            count=asks_total(info),
        )
        return connection(page, from_model(node))

    typed = _typed(
        resolve,
        {
            "info": GraphQLInfo,
            "first": int,
            "after": str | None,
            "filter": filter_input | None,
            "return": Connection[node],  # type: ignore[valid-type]
        },
    )
    return strawberry.field(typed, description=description)


def record_field(
    node: type[Any],
    label: str,
    read: Callable[[AsyncSession, Actor, uuid.UUID], Awaitable[Any]],  # the kind's read, audited
    description: str | None = None,
) -> StrawberryField:
    async def resolve(info: GraphQLInfo, id: strawberry.ID) -> Any:
        actor = info.context.require_actor()
        public = await read(info.context.session, actor, parse_id(id, label))
        return node.from_pydantic(public)

    typed = _typed(resolve, {"info": GraphQLInfo, "id": strawberry.ID, "return": node | None})
    return strawberry.field(typed, description=description)


def create_mutation(
    payload: Callable[[Any], Any],  # the payload type, given the created node
    result: Any,  # the payload or an error: the mutation's GraphQL type
    node: type[Any],
    input_type: type[Any],
    model: type[BaseModel],
    create: Callable[..., Awaitable[Any]],  # (session, *, actor, data)
) -> StrawberryField:
    async def resolve(info: GraphQLInfo, input: Any) -> Any:
        async def run(actor: Actor) -> Any:
            data = input_model(info, input, model)
            return payload(node.from_pydantic(await create(info.context.session, actor=actor, data=data)))

        return await mutate(info, run)

    return strawberry.mutation(_typed(resolve, {"info": GraphQLInfo, "input": input_type, "return": result}))


def update_mutation(
    payload: Callable[[Any], Any],
    result: Any,
    node: type[Any],
    input_type: type[Any],
    model: type[BaseModel],
    label: str,
    id_name: str,
    update: Callable[..., Awaitable[Any]],  # (session, *, actor, <id_name>, data)
) -> StrawberryField:
    async def resolve(info: GraphQLInfo, input: Any) -> Any:
        async def run(actor: Actor) -> Any:
            data = input_model(info, input, model, partial=True)
            record_id: dict[str, uuid.UUID] = {id_name: parse_id(input.id, label)}
            updated = await update(info.context.session, actor=actor, **record_id, data=data)
            return payload(node.from_pydantic(updated))

        return await mutate(info, run)

    return strawberry.mutation(_typed(resolve, {"info": GraphQLInfo, "input": input_type, "return": result}))
