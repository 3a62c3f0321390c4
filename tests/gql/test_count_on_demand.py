"""A GraphQL connection of records counts only when its selection asks for the count.

``totalCount`` costs a walk of up to the count's cap; a client paging without it (an
endless list) should not pay for it, and a client asking for it, however it spells the
selection, must get the figure it would have had anyway."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.conftest import gql

LOGIN = "unmik.chief"
# Each root connection of records, with a filter that makes it a filtered page (its
# count is a statement of its own) beside the unfiltered one (its count rides in the
# page's statement).
CONNECTIONS = {
    "intelItems": '{theatre: "KOS"}',
    "cases": '{theatre: "KOS"}',
    "tasks": '{theatre: "KOS"}',
    "entities": "{entityKind: PERSON}",
    "plannedOperations": '{theatre: "KOS"}',
}


class _Statements:
    """The SQL the service sends while it is open."""

    def __init__(self, app: FastAPI) -> None:
        self.sent: list[str] = []
        self.engine = app.state.sessionmaker.kw["bind"].sync_engine

    def _note(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sent.append(statement)

    def __enter__(self) -> "_Statements":
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)


def _query(field: str, selection: str, *, first: int, after: str | None, where: str | None) -> str:
    arguments = [f"first: {first}"]
    if after:
        arguments.append(f'after: "{after}"')
    if where:
        arguments.append(f"filter: {where}")
    return f"query {{ {field}({', '.join(arguments)}) {{ {selection} }} }}"


PAGE = "edges { cursor node { id } } pageInfo { hasNextPage endCursor }"


async def _page(
    client: httpx.AsyncClient, app: FastAPI, field: str, selection: str, **where: Any
) -> tuple[dict[str, Any], list[str]]:
    with _Statements(app) as statements:
        body = await gql(client, LOGIN, _query(field, selection, **where))
    assert not body.get("errors"), body
    page: dict[str, Any] = body["data"][field]
    return page, statements.sent


@pytest.mark.parametrize("field", sorted(CONNECTIONS))
async def test_a_page_not_asked_for_its_count_is_not_counted(
    client: httpx.AsyncClient, app: FastAPI, field: str
) -> None:
    for where in (None, CONNECTIONS[field]):
        first_page, _ = await _page(client, app, field, PAGE, first=1, after=None, where=where)
        assert first_page["pageInfo"]["hasNextPage"], (field, where, "the seed has more than one")
        # A second page: the first, when it holds everything, knows its count for free.
        after = first_page["pageInfo"]["endCursor"]
        asked, with_count = await _page(
            client, app, field, f"{PAGE} totalCount totalCountCapped", first=1, after=after, where=where
        )
        plain, without = await _page(client, app, field, PAGE, first=1, after=after, where=where)
        assert plain["edges"] == asked["edges"]
        assert plain["pageInfo"] == asked["pageInfo"]
        assert asked["totalCount"] >= 2
        assert asked["totalCountCapped"] is False
        if where is None:
            # The count's walk rides in the page's one statement.
            assert len(without) == len(with_count), (field, without)
            assert any("count_candidates" in s for s in with_count)
            assert not any("count_candidates" in s for s in without), field
        else:
            # The count is a statement of its own, and it is not sent.
            assert len(without) == len(with_count) - 1, (field, without, with_count)


async def test_the_count_is_found_in_fragments_and_under_any_alias(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    plain, _ = await _page(client, app, "intelItems", f"{PAGE} totalCount", first=1, after=None, where=None)
    after = plain["pageInfo"]["endCursor"]
    expected, _ = await _page(client, app, "intelItems", "totalCount", first=1, after=after, where=None)
    spellings = {
        "fragment": "...Count",
        "inline": "... on IntelItemConnection { capped: totalCountCapped n: totalCount }",
        "alias": "n: totalCount",
    }
    for name, selection in spellings.items():
        fragment = "fragment Count on IntelItemConnection { n: totalCount }\n" if name == "fragment" else ""
        body = await gql(
            client,
            LOGIN,
            f'{fragment}query {{ intelItems(first: 1, after: "{after}") {{ pageInfo {{ hasNextPage }} {selection} }} }}',
        )
        assert not body.get("errors"), (name, body)
        assert body["data"]["intelItems"]["n"] == expected["totalCount"], name


async def test_a_count_that_was_not_taken_is_an_error_never_a_figure(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the selection ever misread, the client would get an error, not a zero."""
    first = await gql(client, LOGIN, "query { intelItems(first: 1) { pageInfo { endCursor } } }")
    after = first["data"]["intelItems"]["pageInfo"]["endCursor"]
    monkeypatch.setattr("ocpo_coord.gql.records.asks_total", lambda info: False)
    body = await gql(client, LOGIN, f'query {{ intelItems(first: 1, after: "{after}") {{ totalCount }} }}')
    assert body["data"] is None
    # An internal error, logged in full and masked for the client.
    assert [e["path"] for e in body["errors"]] == [["intelItems", "totalCount"]], body
