"""The Relay ``node`` field: any record by its global id, whatever its kind.

Each kind's GraphQL type is declared beside that type (``@node_type``); its read is the
kind's declaration in ``records.kinds``. Neither is imported from a domain here.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from ocpo_coord.exceptions import NotFound
from ocpo_coord.gql.common import Node, described_field
from ocpo_coord.gql.context import GraphQLInfo
from ocpo_coord.gql.ids import parse_id
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.kinds import kind_spec
from ocpo_coord.visibility.repository import readable_record

N = TypeVar("N")

_TYPES: dict[RecordKind, Any] = {}


def node_type(kind: RecordKind) -> Callable[[type[N]], type[N]]:
    """Declares the GraphQL type of the records of ``kind``."""

    def declare(graphql_type: type[N]) -> type[N]:
        _TYPES[kind] = graphql_type
        return graphql_type

    return declare


def graphql_type(kind: RecordKind) -> Any:
    """The GraphQL type declared for ``kind``; a kind without one is a fault of the program."""
    found = _TYPES.get(kind)
    if found is None:
        raise RuntimeError(f"record kind {kind.value} has no GraphQL type: its module was never imported")
    return found


def undeclared_types() -> list[RecordKind]:
    """The record kinds with no GraphQL type declared (none, once the schema is built)."""
    return [kind for kind in RecordKind if kind not in _TYPES]


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
    public = await kind_spec(kind).read(session, actor, record_id)
    node: Node = graphql_type(kind).from_pydantic(public)
    return node


@strawberry.type
class NodeQuery:
    @described_field("Any record you may read, by id; null with a not-found error otherwise.")
    async def node(self, info: GraphQLInfo, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)
