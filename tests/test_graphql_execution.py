"""The executor's short path for plain leaf fields answers exactly as graphql-core does.

``gql/execution.py:LeanExecutionContext`` answers fields that only read an attribute of
a scalar or enum type (or a list of them) without graphql-core's per-field machinery.
Every example operation, the benchmark's page and an operation with aliases,
fragments and directives must answer the same with and without it, for two readers;
errors must be the executor's own; and the short path must actually be taken.
"""

import enum
from typing import Any

import httpx
import pytest
import strawberry
from graphql.execution.executor import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from ocpo_coord.bench.measure import GRAPHQL_PAGE
from ocpo_coord.gql.execution import LeanExecutionContext
from tests.conftest import gql
from tests.test_graphql import OPERATION_TEXT, READ_ONLY, _prepared

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


async def test_the_short_path_is_taken(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = Executor.execute_field

    def counted(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args)

    monkeypatch.setattr(Executor, "execute_field", counted)
    page = await gql(client, "unmik.analyst", GRAPHQL_PAGE, {"after": None})
    edges = page["data"]["intelItems"]["edges"]
    assert len(edges) >= 5
    lean_calls, calls = calls, 0
    with monkeypatch.context() as patched:
        patched.setattr(LeanExecutionContext, "execute_field", counted)
        assert await gql(client, "unmik.analyst", GRAPHQL_PAGE, {"after": None}) == page
    # Per edge the executor executes fifteen fields: the cursor, the node, its five
    # leaves, its markings and their seven. With the short path, only the node and the
    # markings are left to it (and the connection's own fields, once).
    assert calls >= 15 * len(edges)
    assert lean_calls <= 2 * len(edges) + 6


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
