"""A short path through graphql-core's executor for the commonest field of all.

Most fields of a page are plain attributes of a scalar or enum type, or lists of them:
an item's id, title and dates, its markings' agencies and levels, its linked cases.
For each of them graphql-core builds a resolve-info object, asks strawberry's resolver
for the attribute, and walks the type (non-null, list, leaf) one call at a time: about
5 us a field, and a fifty-row page has about 850 of them (4 ms, a quarter of a
GraphQL page on this service's profile).

Here such a field is answered directly: the attribute is read as strawberry's own
basic resolver reads it, and each value is coerced by the type's own
``coerce_output_value``, which is what the executor would end with. Anything else takes
graphql-core's path unchanged: fields with a resolver, arguments, directives or
middleware, objects, abstract types, and any value the short path would have to report
as an error (a null where the type forbids it, a value the type refuses, an attribute
that is missing), so that every error is raised, located and reported by graphql-core
itself. ``tests/test_graphql_execution.py`` runs every example operation both ways and
compares the answers.
"""

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# What the short path could not answer: graphql-core's path answers instead.
_SLOW: Any = object()


def _leaf(value: Any, leaf: GraphQLLeafType, nullable: bool) -> Any:
    if value is None:
        return None if nullable else _SLOW
    coerced = leaf.coerce_output_value(value)
    return _SLOW if coerced is None or coerced is Undefined else coerced


def _plan(field_type: GraphQLOutputType) -> Callable[[Any], Any] | None:
    """How to complete a value of this type directly, if it is a leaf or a list of them."""
    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type if nullable else field_type.of_type  # type: ignore[union-attr]
    if is_leaf_type(inner):
        leaf: GraphQLLeafType = inner
        return lambda value: _leaf(value, leaf, nullable)
    if not isinstance(inner, GraphQLList):
        return None
    item = inner.of_type
    items_nullable = not isinstance(item, GraphQLNonNull)
    item_leaf = item if items_nullable else item.of_type
    if not is_leaf_type(item_leaf):
        return None

    def complete_list(value: Any) -> Any:
        if value is None:
            return None if nullable else _SLOW
        if not isinstance(value, list | tuple):
            return _SLOW
        completed = [_leaf(v, item_leaf, items_nullable) for v in value]
        return _SLOW if any(c is _SLOW for c in completed) else completed

    return complete_list


# A field's short path: its resolver and how to complete its value.
_Short = tuple[Callable[..., Any], Callable[[Any], Any]]


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per parent type and field node of this operation: the field's short path, or
        # None. Made once per operation (a page asks each field fifty times); keyed by
        # identity, as the objects live as long as the operation does.
        self._short: dict[tuple[int, int], _Short | None] = {}

    def _short_path(self, parent_type: GraphQLObjectType, node: Any) -> _Short | None:
        # strawberry always brings a middleware manager; it wraps resolvers only when an
        # extension resolves fields itself.
        manager = self.middleware_manager
        if (manager is not None and manager.middlewares) or node.arguments or node.directives:
            return None
        field = self.schema.get_field(parent_type, node.name.value)
        if field is None or field.args or field.resolve is None:
            return None
        # strawberry marks the resolver of a field that only reads an attribute.
        if not getattr(field.resolve, "_is_default", False):
            return None
        plan = _plan(field.type)
        return None if plan is None else (field.resolve, plan)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if len(field_details_list) == 1:
            node = field_details_list[0].node
            key = (id(parent_type), id(node))
            try:
                short = self._short[key]
            except KeyError:
                short = self._short[key] = self._short_path(parent_type, node)
            if short is not None:
                resolve, plan = short
                try:
                    answer = plan(resolve(source, None))
                except Exception:  # the executor's path raises and reports it
                    answer = _SLOW
                if answer is not _SLOW:
                    return answer
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
