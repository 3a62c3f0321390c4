"""The executor's short path for plain fields answers exactly as graphql-core does.

``gql/execution.py:LeanExecutionContext`` answers fields that only read an attribute of
a scalar or enum type, or of an object type whose selected fields are all such fields
(or a list of either), without graphql-core's per-field machinery.
Every example operation, the benchmark's page and an operation with aliases,
fragments and directives must answer the same with and without it, for two readers;
errors must be the executor's own; and the short path must actually be taken.
"""

import asyncio
import enum
import uuid
from typing import Any

import httpx
import pytest
import strawberry
from graphql import Undefined
from graphql.execution.executor import Executor
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from ocpo_coord.bench.measure import GRAPHQL_PAGE
from ocpo_coord.gql.execution import LeanExecutionContext
from tests.conftest import gql
from tests.gql.test_contract import OPERATION_TEXT, READ_ONLY, _prepared

SHAPES = """
query Shapes($withMarkings: Boolean!, $withoutIds: Boolean!) {
  first: intelItems(first: 3) {
    totalCount
    nodes { ...Item itemId: id __typename markings @include(if: $withMarkings) { tlp releasableTo } }
  }
  again: intelItems(first: 2) { nodes { id @skip(if: $withoutIds) title title grading } }
  cases(first: 2) { edges { cursor node { id reference title status crimeTypes } } }
}
fragment Item on IntelItem { title informationDate caseIds markings { classification orcon } }
"""


def _generic(patched: pytest.MonkeyPatch) -> None:
    """Every field through graphql-core's own path."""
    patched.setattr(LeanExecutionContext, "execute_field", Executor.execute_field)


@pytest.mark.parametrize("login", ["unmik.analyst", "kfor.j2"])
async def test_every_operation_answers_the_same_both_ways(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, login: str
) -> None:
    operations: list[tuple[str, str, dict[str, Any]]] = [
        (name, OPERATION_TEXT[name], await _prepared(client, name)) for name in READ_ONLY
    ]
    operations += [
        ("bench page", GRAPHQL_PAGE, {"after": None}),
        ("shapes", SHAPES, {"withMarkings": True, "withoutIds": False}),
        ("shapes, other branches", SHAPES, {"withMarkings": False, "withoutIds": True}),
    ]
    answered = 0
    for name, text, variables in operations:
        lean = await gql(client, login, text, variables)
        with monkeypatch.context() as patched:
            _generic(patched)
            generic = await gql(client, login, text, variables)
        assert lean == generic, name
        answered += bool(lean.get("data"))
    # All but the one handover the second reader may not see answer with data.
    assert answered >= len(operations) - 1


class ExecutorCalls:
    """Counts the fields graphql-core's own ``execute_field`` executes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = Executor.execute_field

        # A plain function, so that the executor it is set on passes itself.
        def counted(*args: Any) -> Any:
            self.calls += 1
            return original(*args)

        self.counted = counted
        monkeypatch.setattr(Executor, "execute_field", counted)

    def taken(self) -> int:
        """The count so far, started again from zero."""
        taken, self.calls = self.calls, 0
        return taken


async def test_the_short_path_is_taken(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    executor = ExecutorCalls(monkeypatch)
    page = await gql(client, "unmik.analyst", GRAPHQL_PAGE, {"after": None})
    edges = page["data"]["intelItems"]["edges"]
    assert len(edges) >= 5
    lean_calls = executor.taken()
    with monkeypatch.context() as patched:
        patched.setattr(LeanExecutionContext, "execute_field", executor.counted)
        assert await gql(client, "unmik.analyst", GRAPHQL_PAGE, {"after": None}) == page
    # Per edge the executor executes fifteen fields: the cursor, the node, its five
    # leaves, its markings and their seven. With the short path, the edges are one field
    # (a list of objects whose fields all read attributes), beside the connection's own
    # few: the number no longer grows with the page.
    assert executor.taken() >= 15 * len(edges)
    assert lean_calls <= 6


class Level(enum.Enum):
    LOW = "low"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    level: Level
    tags: list[str]
    maybe_tags: list[str | None] | None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        def thing(**overrides: Any) -> Thing:
            values: dict[str, Any] = {"name": "x", "nickname": None, "level": Level.LOW, "tags": ["a"]}
            return Thing(**(values | {"maybe_tags": None} | overrides))

        # Fine; a null name; a level the enum refuses; a null among non-null tags; a
        # null among nullable ones.
        return [
            thing(),
            thing(name=None),
            thing(level="not a level"),
            thing(tags=["a", None]),
            thing(maybe_tags=["b", None]),
        ]


def test_errors_are_the_executors_own() -> None:
    """A null where the type forbids it, a value the enum refuses, a null inside a list of
    non-null items: reported by graphql-core with its own messages and paths."""
    query = "{ things { name nickname level tags maybeTags } }"
    lean = strawberry.Schema(query=Query, execution_context_class=LeanExecutionContext).execute_sync(query)
    generic = strawberry.Schema(
        query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext
    ).execute_sync(query)
    assert lean.data == generic.data
    fine = {"name": "x", "nickname": None, "level": "LOW", "tags": ["a"], "maybeTags": None}
    assert lean.data == {"things": [fine, None, None, None, fine | {"maybeTags": ["b", None]}]}
    assert lean.errors is not None
    assert generic.errors is not None
    assert len(lean.errors) == 3
    assert [(e.message, e.path) for e in lean.errors] == [(e.message, e.path) for e in generic.errors]


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Owner(Named):
    level: Level


@strawberry.type
class Part:
    label: str
    tags: list[str]


@strawberry.type
class Impostor:
    """Has an owner's attributes but is not an ``Owner``: its type check refuses it."""

    name: str
    level: Level


@strawberry.type
class Holder:
    key: str
    owner: Owner | None
    parts: list[Part]


@strawberry.type
class Holders:
    @strawberry.field
    def holders(self) -> list[Holder | None]:
        def holder(**overrides: Any) -> Holder:
            values: dict[str, Any] = {
                "key": "k",
                "owner": Owner(name="o", level=Level.LOW),
                "parts": [Part(label="p", tags=["t"]), Part(label="q", tags=[])],
            }
            return Holder(**(values | overrides))

        # Fine; an owner without its non-null name (the owner is null); a part without
        # its label (the parts, and so the holder, are null); an object that is not an
        # owner; a refused enum value deep down; no owner at all.
        return [
            holder(),
            holder(owner=Owner(name=None, level=Level.LOW)),  # type: ignore[arg-type]
            holder(parts=[Part(label="p", tags=["t"]), Part(label=None, tags=[])]),  # type: ignore[arg-type]
            holder(owner=Impostor(name="i", level=Level.LOW)),
            holder(owner=Owner(name="o", level="not a level")),  # type: ignore[arg-type]
            holder(owner=None),
        ]


def test_objects_answer_whole_or_by_the_executor() -> None:
    """An object (or a list of them) whose fields all read attributes is answered by the
    short path only when every one of its values is; otherwise the executor answers it
    from the start, and each error is reported once, as the executor reports it."""
    query = "{ holders { key owner { name level } parts { label tags } } }"
    lean = strawberry.Schema(query=Holders, types=[Impostor], execution_context_class=LeanExecutionContext)
    generic = strawberry.Schema(
        query=Holders, types=[Impostor], execution_context_class=StrawberryGraphQLCoreExecutionContext
    )
    answered, expected = lean.execute_sync(query), generic.execute_sync(query)
    assert answered.data == expected.data
    owner = {"name": "o", "level": "LOW"}
    parts = [{"label": "p", "tags": ["t"]}, {"label": "q", "tags": []}]
    fine = {"key": "k", "owner": owner, "parts": parts}
    assert answered.data == {
        "holders": [
            fine,
            fine | {"owner": None},
            None,
            fine | {"owner": None},
            fine | {"owner": None},
            fine | {"owner": None},
        ]
    }
    assert answered.errors is not None
    assert expected.errors is not None
    assert len(answered.errors) == 4
    assert [(e.message, e.path) for e in answered.errors] == [(e.message, e.path) for e in expected.errors]
    assert any("Expected value of type 'Owner'" in e.message for e in answered.errors)


class Refuse(BasePermission):
    message = "refused"
    checks = 0

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        Refuse.checks += 1
        return False


class RefuseLater(BasePermission):
    message = "refused later"
    checks = 0

    async def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        RefuseLater.checks += 1
        return False


class Oops(Exception):
    pass


@strawberry.type
class Guarded:
    open: str
    # No resolver of their own, but permission classes: strawberry marks their resolvers
    # default too, and those resolvers run the checks.
    closed: str | None = strawberry.field(permission_classes=[Refuse])
    closed_later: uuid.UUID | None = strawberry.field(permission_classes=[RefuseLater])
    # Values the executor treats otherwise than a plain value: an exception is a field
    # error, Undefined is null, an awaitable is awaited.
    failed: str | None
    undefined: str | None
    awaited: str | None
    failed_in_list: list[str | None]


@strawberry.type
class GuardedQuery:
    @strawberry.field
    async def guarded(self) -> list[Guarded]:
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        done.set_result("loaded")
        return [
            Guarded(
                open="o",
                closed="secret",
                closed_later=uuid.uuid4(),
                failed=Oops("boom"),  # type: ignore[arg-type]
                undefined=Undefined,  # type: ignore[arg-type]
                awaited=done,  # type: ignore[arg-type]
                failed_in_list=["a", Oops("bad item")],  # type: ignore[list-item]
            )
            for _ in range(2)
        ]


async def test_permissions_and_special_values_take_the_executors_path() -> None:
    """A field with permission classes runs them exactly as the executor does (once,
    with the real resolve info), and a value the executor would raise, turn to null or
    await is left to it: the same data and errors both ways."""
    query = "{ guarded { __typename open closed closedLater failed undefined awaited failedInList } }"
    answers = []
    for context in (LeanExecutionContext, StrawberryGraphQLCoreExecutionContext):
        Refuse.checks = RefuseLater.checks = 0
        schema = strawberry.Schema(query=GuardedQuery, execution_context_class=context)
        result = await schema.execute(query)
        answers.append((result.data, [(e.message, e.path) for e in result.errors or []]))
        assert (Refuse.checks, RefuseLater.checks) == (2, 2), context
    (lean, lean_errors), (generic, generic_errors) = answers
    assert lean == generic
    assert lean_errors == generic_errors
    item = {
        "__typename": "Guarded",
        "open": "o",
        "closed": None,
        "closedLater": None,
        "failed": None,
        "undefined": None,
        "awaited": "loaded",
        "failedInList": ["a", None],
    }
    assert lean == {"guarded": [item, item]}
    assert sorted(message for message, _ in lean_errors) == sorted(
        ["refused", "refused later", "boom", "bad item"] * 2
    )


async def test_typename_keeps_the_short_path(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients add ``__typename`` to every selection; an object's short path answers it."""
    query = GRAPHQL_PAGE.replace("edges { cursor node {", "edges { __typename cursor node { __typename")
    executor = ExecutorCalls(monkeypatch)
    page = await gql(client, "unmik.analyst", query, {"after": None})
    edges = page["data"]["intelItems"]["edges"]
    assert edges[0]["__typename"] == "IntelItemEdge"
    assert edges[0]["node"]["__typename"] == "IntelItem"
    assert executor.taken() <= 6
    with monkeypatch.context() as patched:
        _generic(patched)
        assert await gql(client, "unmik.analyst", query, {"after": None}) == page
