"""A short path through graphql-core's executor for the commonest fields of all.

Most fields of a page are plain attributes of a scalar or enum type, or lists of them:
an item's id, title and dates, its markings' agencies and levels, its linked cases.
For each of them graphql-core builds a resolve-info object, asks strawberry's resolver
for the attribute, and walks the type (non-null, list, leaf) one call at a time, and a
fifty-row page has hundreds of them. An object whose selected fields are all such
attributes (an item's markings; an edge, with its cursor and its node) costs as much
again for the object itself.

Here such a field is answered directly: the attribute is read as strawberry's own
basic resolver reads it, and each value is coerced by the type's own
``coerce_output_value``, which is what the executor would end with; an object becomes
the dictionary of its selected fields, in the executor's order, after the type's own
``is_type_of`` check; its ``__typename`` is the type's name. Anything else takes
graphql-core's path unchanged: fields with a resolver, permission classes, extensions,
arguments, directives, deferral or middleware, interfaces and unions, objects with any
such field, values the executor treats otherwise than a plain value (an exception,
Undefined, an awaitable), and any value the short path would have to report as an
error (a null where the type forbids it, a value the type refuses, an attribute that
is missing, an object of another type). Such an object or list is answered again from
the start by graphql-core, which raises, locates and reports every error itself, once.
``tests/gql/test_execution.py`` runs every example operation both ways and
compares the answers.

This overrides graphql-core's ``execute_field`` and reads strawberry's resolver marks
(``_is_default``, ``_get_basic_result``): internals, not public API. Both libraries are
pinned in ``pyproject.toml`` to the releases this was written against; the test above
fails if an upgrade changes what it relies on.
"""

import inspect
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# What the short path could not answer: graphql-core's path answers instead.
_SLOW: Any = object()

# Values that are plainly values. Anything else is first asked whether the executor
# would treat it otherwise: an exception (a field error), Undefined (null), an awaitable.
_PLAIN = frozenset({str, int, float, bool, uuid.UUID, datetime, date, list, tuple})

Completion = Callable[[Any], Any]


def _special(is_awaitable: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def special(value: Any) -> bool:
        return type(value) not in _PLAIN and (
            isinstance(value, Exception) or value is Undefined or is_awaitable(value)
        )

    return special


def _guarded(complete: Completion, nullable: bool, special: Callable[[Any], bool]) -> Completion:
    """``complete`` for the values that are plainly values; a null as the type allows."""

    def guarded(value: Any) -> Any:
        if value is None:
            return None if nullable else _SLOW
        return _SLOW if special(value) else complete(value)

    return guarded


def _coerced(leaf: GraphQLLeafType) -> Completion:
    def coerce(value: Any) -> Any:
        coerced = leaf.coerce_output_value(value)
        return _SLOW if coerced is None or coerced is Undefined else coerced

    return coerce


def _each(complete: Completion) -> Completion:
    """A list of values each completed by ``complete``: all of them, or none."""

    def complete_list(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return _SLOW
        completed = []
        for item in value:
            answer = complete(item)
            if answer is _SLOW:
                return _SLOW
            completed.append(answer)
        return completed

    return complete_list


# A field's short path: its resolver and how to complete its value.
_Short = tuple[Callable[..., Any], Completion]

# strawberry's basic resolvers and type checks read no resolve info.
_NO_INFO: Any = None


def _same(value: Any) -> Any:
    return value


def _reads_attribute(resolve: Any) -> bool:
    """strawberry's resolver for a field that only reads an attribute. A field without
    a resolver of its own but with permission classes, extensions or error handlers is
    also marked default, and its resolver runs them: it must not be taken for one."""
    return getattr(resolve, "_is_default", False) and getattr(resolve, "__name__", "") == "_get_basic_result"


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._special = _special(self.is_awaitable)
        # Per parent type and field group of this operation: the group (kept, so that
        # its identity stays its own) and the field's short path, or None. Made once per
        # operation: the executor hands every item of a list the same group, and a page
        # asks each field fifty times.
        self._short: dict[tuple[int, int], tuple[FieldDetailsList, _Short | None]] = {}

    def _short_path(self, parent_type: GraphQLObjectType, details: FieldDetailsList) -> _Short | None:
        # One node, not deferred, without fragment variables: what the executor would
        # do is decided by the node and the operation alone.
        if len(details) != 1 or details[0].defer_usage is not None or details[0].fragment_variable_values:
            return None
        node = details[0].node
        # strawberry always brings a middleware manager; it wraps resolvers only when an
        # extension resolves fields itself.
        manager = self.middleware_manager
        if (manager is not None and manager.middlewares) or node.arguments or node.directives:
            return None
        if node.name.value == "__typename":
            # Asked of an object of a known type: its name, as the executor answers.
            name = parent_type.name
            return (lambda _source, _info: name, _same)
        field = self.schema.get_field(parent_type, node.name.value)
        if field is None or field.args or field.resolve is None or not _reads_attribute(field.resolve):
            return None
        complete = self._completion(field.type, details)
        return None if complete is None else (field.resolve, complete)

    def _completion(self, field_type: GraphQLOutputType, details: FieldDetailsList) -> Completion | None:
        """How to complete a value of this type directly: a leaf, an object whose
        selected fields all have a short path, or a list of either."""
        nullable = not isinstance(field_type, GraphQLNonNull)
        inner = get_nullable_type(field_type)
        complete: Completion | None = None
        if isinstance(inner, GraphQLList):
            item = inner.of_type
            if not isinstance(get_nullable_type(item), GraphQLList):
                complete_item = self._completion(item, details)
                complete = None if complete_item is None else _each(complete_item)
        elif is_leaf_type(inner):
            complete = _coerced(inner)
        elif isinstance(inner, GraphQLObjectType):
            complete = self._object_completion(inner, details)
        # Interfaces and unions (None): the executor resolves the type.
        return None if complete is None else _guarded(complete, nullable, self._special)

    def _object_completion(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Completion | None:
        """An object's selected fields, each by its own short path, in the executor's
        order; the executor's path instead if any of them has none."""
        is_type_of = object_type.is_type_of
        if is_type_of is not None and inspect.iscoroutinefunction(is_type_of):
            return None
        grouped, deferred, _ = self.collect_subfields(object_type, details)
        if deferred:
            return None
        fields: list[tuple[str, Callable[..., Any], Completion]] = []
        for key, sub_details in grouped.items():
            short = self._short_path(object_type, sub_details)
            if short is None:
                return None
            fields.append((key, *short))

        def complete_object(value: Any) -> Any:
            # strawberry's check needs no resolve info; one that does raises, and the
            # executor asks it properly.
            if is_type_of is not None and is_type_of(value, _NO_INFO) is not True:
                return _SLOW
            answer: dict[str, Any] = {}
            for key, resolve, complete in fields:
                completed = complete(resolve(value, _NO_INFO))
                if completed is _SLOW:
                    return _SLOW
                answer[key] = completed
            return answer

        return complete_object

    def execute_operation(self, serially: bool | None = None) -> Any:
        """A query's root fields run one after another, as a mutation's always do.

        They share the request's one session and transaction. Each root field is a
        unit of work of its own (a lookup and its audit entry, a page and its count):
        run side by side, their steps would interleave on the one session, and a field
        that fails would have its siblings cancelled half-way. Within a root field the
        executor still runs list items and sibling fields together, so the dataloaders
        still batch; the session lets their statements through one at a time
        (``serial_session``)."""
        return super().execute_operation(True if serially is None else serially)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        key = (id(parent_type), id(field_details_list))
        try:
            short = self._short[key][1]
        except KeyError:
            try:
                short = self._short_path(parent_type, field_details_list)
            except Exception:  # the executor's path meets it again, and reports it
                short = None
            self._short[key] = (field_details_list, short)
        if short is not None:
            resolve, complete = short
            try:
                answer = complete(resolve(source, _NO_INFO))
            except Exception:  # the executor's path raises and reports it
                answer = _SLOW
            # All or nothing: an object or list the short path could not finish is
            # answered again from the start by the executor, which reports what failed,
            # once. The short path only reads the plain attributes of the service's own
            # types, so reading them twice is harmless.
            if answer is not _SLOW:
                return answer
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
