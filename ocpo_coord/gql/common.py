"""GraphQL building blocks: the Node interface, connections, and expected errors."""

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import ObjectValueNode, VariableNode
from pydantic import BaseModel, ValidationError
from strawberry.types import Info
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.nodes import SelectedField, Selection
from strawberry.types.unset import UNSET

from ocpo_coord.exceptions import Conflict, Forbidden, InvalidInput, NotFound, OcpoError
from ocpo_coord.visibility.pagination import Page

T = TypeVar("T")
P = TypeVar("P")

AsyncResolver = Callable[..., Awaitable[Any]]


def described_field(description: str) -> Callable[[AsyncResolver], StrawberryField]:
    """``@strawberry.field(description=...)`` for a resolver method, typed for mypy --strict.

    strawberry types the keyword-only ``field(...)`` call as returning ``Any``, which
    mypy reports as an untyped decorator (strawberry-graphql/strawberry#1929).
    Handing the resolver over positionally picks the typed overload; at run time it
    is the same call and the same ``StrawberryField``.
    """

    def decorate(resolver: AsyncResolver) -> StrawberryField:
        return strawberry.field(resolver, description=description)

    return decorate


@strawberry.interface(description="An object with a globally unique id (the record's UUID).")
class Node:
    id: strawberry.ID


@strawberry.type(
    description="Where a page sits (Relay cursor connections). Pages go forward only, with "
    "first and after: as the Relay specification allows, hasPreviousPage is then false."
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    start_cursor: str | None = strawberry.field(default=None, description="The first edge's cursor.")
    has_previous_page: bool = strawberry.field(
        default=False, description="Always false: lists are paged forward (first, after) only."
    )

    @classmethod
    def of(cls, cursors: Sequence[str], *, has_next_page: bool) -> "PageInfo":
        return cls(
            has_next_page=has_next_page,
            end_cursor=cursors[-1] if cursors else None,
            start_cursor=cursors[0] if cursors else None,
        )


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(
    description="A page of what the reader may see, in the order the field names (most: newest first)."
)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    # The count and whether it stopped at its cap; None when the page was not counted
    # because the selection did not ask for it (``asks_total``).
    count: strawberry.Private[tuple[int, bool] | None]

    @described_field("What the reader may see that matches the filter, counted up to a cap.")
    async def total_count(self) -> int:
        return self._count()[0]

    @described_field("True when there are more than totalCount; the count stopped at its cap.")
    async def total_count_capped(self) -> bool:
        return self._count()[1]

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    def _count(self) -> tuple[int, bool]:
        if self.count is None:
            # Only a selection ``asks_total`` misread comes here: an error, never a
            # figure that was not counted.
            raise RuntimeError("this page was not counted")
        return self.count


_COUNT_FIELDS = frozenset({"totalCount", "totalCountCapped"})


def asks_total(info: Info[Any, Any]) -> bool:
    """Whether the connection being resolved is asked for its count: ``totalCount`` or
    ``totalCountCapped`` among its fields, in fragments too. A directive that skips
    the field is not read: counting a page that did not need it is only slower."""

    def names(selections: list[Selection]) -> bool:
        return any(
            s.name in _COUNT_FIELDS
            if isinstance(s, SelectedField)
            else names(s.selections)  # a fragment's fields are the connection's own
            for s in selections
        )

    return any(names(field.selections) for field in info.selected_fields)


def connection(page: Page[P], convert: Callable[[P], T]) -> Connection[T]:
    edges = [Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.end_cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo.of(page.end_cursors, has_next_page=page.has_next_page),
        count=(page.total_count, page.total_count_capped) if page.counted else None,
    )


def _from_pydantic(field_type: Any) -> bool:
    return isinstance(field_type, type) and hasattr(field_type, "_pydantic_type")


def _holds_models(field_type: Any) -> bool:
    if isinstance(field_type, StrawberryList | StrawberryOptional):
        return _holds_models(field_type.of_type)
    return _from_pydantic(field_type)


def from_model(node_type: type[T]) -> Callable[[Any], T]:
    """The converter from a public model to the strawberry type made from it.

    strawberry's ``from_pydantic`` walks every value through its generic conversion,
    which adds up on a page of fifty. The types here copy their model's fields one to
    one, so a plan made once per type — which fields to copy, which to convert with
    the nested type's own plan — builds the same object without the walk. A type holding lists of models takes the
    generic path. tests/gql/test_contract.py checks the two give equal objects.
    """
    converter: Callable[[Any], T] = _converter(node_type)  # type: ignore[arg-type]
    return converter


@functools.cache
def _converter(node_type: Any) -> Callable[[Any], Any]:
    plan: list[tuple[str, Callable[[BaseModel], Any] | None]] = []
    for field in node_type.__strawberry_definition__.fields:
        if field.base_resolver is not None or not field.init:
            continue
        if _from_pydantic(field.type):
            plan.append((field.python_name, _converter(field.type)))
        elif _holds_models(field.type):
            return node_type.from_pydantic  # type: ignore[no-any-return]
        else:
            plan.append((field.python_name, None))

    def convert(model: BaseModel) -> Any:
        values = {}
        for name, nested in plan:
            value = getattr(model, name)
            values[name] = nested(value) if nested is not None and value is not None else value
        return node_type(**values)

    return convert


@strawberry.interface(description="An expected failure, returned as data rather than raised.")
class UserError:
    message: str
    field: str | None = strawberry.field(description="The input field at fault, if any.")


@strawberry.type
class InvalidInputError(UserError):
    pass


@strawberry.type(description="Missing, or not readable by you: the two look the same.")
class NotFoundError(UserError):
    pass


@strawberry.type
class ForbiddenError(UserError):
    pass


@strawberry.type(description="A concurrent change or a duplicate; reload and retry.")
class ConflictError(UserError):
    pass


ErrorTypes = InvalidInputError | NotFoundError | ForbiddenError | ConflictError

_CAMEL = re.compile(r"_([a-z])")


def camel(path: str | None) -> str | None:
    if path is None:
        return None
    return _CAMEL.sub(lambda m: m.group(1).upper(), path)


def user_error(exc: OcpoError) -> ErrorTypes:
    field = camel(exc.field)
    if isinstance(exc, NotFound):
        return NotFoundError(message=exc.message, field=field)
    if isinstance(exc, Forbidden):
        return ForbiddenError(message=exc.message, field=field)
    if isinstance(exc, Conflict):
        return ConflictError(message=exc.message, field=field)
    return InvalidInputError(message=exc.message, field=field)


def validation_error(exc: ValidationError) -> InvalidInputError:
    first = exc.errors()[0]
    field = camel(".".join(str(p) for p in first.get("loc", ()))) or None
    return InvalidInputError(message=f"{field}: {first.get('msg')}" if field else first["msg"], field=field)


def convert_input(build: Callable[[], T]) -> T:
    """Run pydantic validation of a GraphQL input, as a domain error naming the field."""
    try:
        return build()
    except ValidationError as exc:
        error = validation_error(exc)
        raise InvalidInput(error.message, field=error.field) from exc


Mutation = Callable[[], Awaitable[T]]


M = TypeVar("M", bound=BaseModel)
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _provided(info: Any, argument: str) -> set[str] | None:
    """The input fields the client wrote, so an update touches only those.

    GraphQL cannot tell "left out" from "null" once strawberry has built the input
    object, so this reads the operation itself.
    """
    raw = info._raw_info
    for arg in raw.field_nodes[0].arguments:
        if arg.name.value != argument:
            continue
        if isinstance(arg.value, VariableNode):
            given = raw.variable_values.get(arg.value.name.value) or {}
            return {_SNAKE.sub("_", key).lower() for key in given}
        if isinstance(arg.value, ObjectValueNode):
            return {_SNAKE.sub("_", f.name.value).lower() for f in arg.value.fields}
    return None


def input_model(
    info: Any,
    value: Any,
    model: type[M],
    *,
    partial: bool = False,
    argument: str = "input",
    drop: tuple[str, ...] = ("id",),
) -> M:
    """Validate a GraphQL input with the same pydantic model the REST API uses."""
    data = strawberry.asdict(value)
    for key in drop:
        data.pop(key, None)
    if partial:
        provided = _provided(info, argument)
        if provided is not None:
            data = {k: v for k, v in data.items() if k in provided}
    return convert_input(lambda: model.model_validate(data))


InputT = TypeVar("InputT")


def partial_input(cls: type[InputT]) -> type[InputT]:
    """An update input: fields have no GraphQL default, so a field left out stays
    out of the request's variables and ``input_model(partial=True)`` leaves it alone."""
    for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        field.default = UNSET
        field.default_value = UNSET
    return cls
