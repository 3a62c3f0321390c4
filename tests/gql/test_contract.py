"""GraphQL contract: example operations, the committed SDL, limits, no N+1 queries."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import graphql.validation
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from ocpo_coord.gql import common
from ocpo_coord.schema import schema
from tests.conftest import auth, gql

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "graphql" / "operations"
OPERATION_TEXT = {path.stem: path.read_text() for path in sorted(OPERATIONS.glob("*.graphql"))}


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "graphql" / "schema.graphql").read_text()
    assert committed.strip() == schema.as_str().strip(), (
        "graphql/schema.graphql is stale: run "
        "`strawberry export-schema ocpo_coord.schema:schema --output graphql/schema.graphql`"
    )


def test_no_python_in_the_sdl_folder() -> None:
    # A .py file there would shadow the graphql-core library strawberry imports.
    assert not list((ROOT / "graphql").rglob("*.py"))


def _variables(name: str) -> dict[str, Any]:
    examples: dict[str, dict[str, Any]] = {
        "CreateCase": {
            "input": {
                "title": "Stolen vehicles shipped via Durrës",
                "theatre": "KOS",
                "crimeTypes": ["SMUGGLING"],
            }
        },
        "IntelItems": {"filter": {"theatre": "KOS"}},
        "TaskBoard": {"filter": {"theatre": "KOS"}},
        "MyCases": {"first": 5},
    }
    return examples.get(name, {})


async def _prepared(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """The example operation's variables, with ids looked up in the seed."""
    variables = _variables(name)
    if name == "AddNote":
        cases = await client.get(
            "/api/v1/cases", params={"text": "UNMIK-2007-0088"}, headers=auth("unmik.analyst")
        )
        variables = {
            "input": {"caseId": cases.json()["items"][0]["id"], "body": "Checked with the border post."}
        }
    if name == "Node":
        cases = await client.get("/api/v1/cases", params={"limit": 1}, headers=auth("unmik.analyst"))
        variables = {"id": cases.json()["items"][0]["id"]}
    if name == "HandoverLines":
        handovers = await client.get("/api/v1/handovers", headers=auth("unmik.analyst"))
        variables = {"id": handovers.json()[0]["id"]}
    return variables


@pytest.mark.parametrize("name", sorted(OPERATION_TEXT))
async def test_example_operations_run(client: httpx.AsyncClient, name: str) -> None:
    variables = await _prepared(client, name)
    body = await gql(client, "unmik.analyst", OPERATION_TEXT[name], variables)
    assert "errors" not in body, body
    assert body["data"]
    text = str(body["data"])
    assert "Error'" not in text, body


READ_ONLY = sorted(name for name, text in OPERATION_TEXT.items() if re.search(r"^query ", text, re.MULTILINE))


async def test_fast_conversion_answers_as_strawberry_does(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections convert public models with a plan made per type, not with
    strawberry's generic ``from_pydantic``; every example query answers the same both ways."""
    assert len(READ_ONLY) >= 8, READ_ONLY
    for login in ("unmik.analyst", "eulex.chief"):
        for name in READ_ONLY:
            variables = await _prepared(client, name)
            fast = await gql(client, login, OPERATION_TEXT[name], variables)
            with monkeypatch.context() as patched:
                patched.setattr(common, "_converter", lambda node_type: node_type.from_pydantic)
                generic = await gql(client, login, OPERATION_TEXT[name], variables)
            assert fast == generic, name
            assert fast["data"], fast


class _QueryCounter:
    def __init__(self, app: FastAPI) -> None:
        self.count = 0
        self.engine = app.state.sessionmaker.kw["bind"].sync_engine
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


async def test_nested_fields_cost_the_same_queries_for_any_page_size(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    query = OPERATION_TEXT["MyCases"]
    counts = {}
    for first in (4, 9):
        counter = _QueryCounter(app)
        body = await gql(client, "unmik.chief", query, {"first": first})
        counter.close()
        assert len(body["data"]["cases"]["edges"]) == first
        counts[first] = counter.count
    assert counts[4] == counts[9], counts


async def test_depth_and_alias_limits(client: httpx.AsyncClient) -> None:
    deep = (
        "{ cases { edges { node { " + "intelItems { nodes { cases { " * 3 + "id" + " } } }" * 3 + " } } } }"
    )
    body = await gql(client, "unmik.analyst", deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: me {{ login }}" for i in range(40)) + " }"
    body = await gql(client, "unmik.analyst", aliases)
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_an_operation_seen_before_is_not_validated_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits stay in force, and a repeated operation reuses its validation."""
    validations: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        validations.append(args[1])
        return graphql.validation.validate(*args, **kwargs)

    # strawberry validates through the function it imported from graphql-core.
    monkeypatch.setattr("strawberry.schema.schema.validate", counted)
    # A text no other test sends, so the first run cannot be served from the cache.
    query = "query ValidatedOnce { me { login } }"
    for _ in range(3):
        body = await gql(client, "unmik.analyst", query)
        assert body["data"]["me"]["login"] == "unmik.analyst", body
    assert len(validations) == 1
    too_deep = "query TooDeepOnce { cases { edges { node { " + "intelItems { nodes { cases { " * 3
    too_deep += "id" + " } } }" * 3 + " } } } }"
    for _ in range(2):
        body = await gql(client, "unmik.analyst", too_deep)
        assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert len(validations) == 2


async def test_page_size_is_bounded(client: httpx.AsyncClient) -> None:
    body = await gql(client, "unmik.analyst", "{ cases(first: 5000) { totalCount } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}


async def test_unexpected_errors_are_masked(client: httpx.AsyncClient) -> None:
    body = await gql(client, "unmik.analyst", '{ cases(first: 2, after: "not-a-cursor") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "Traceback" not in str(body)


def test_schema_export_command_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "strawberry", "export-schema", "ocpo_coord.schema:schema"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "type Query" in result.stdout


def test_introspection_of_the_schema_succeeds() -> None:
    # GraphiQL and client code generators introspect; an input default that cannot be
    # written (an object) would break them all.
    result = schema.introspect()
    names = {t["name"] for t in result["__schema"]["types"]}
    assert {"Case", "CreateCaseInput", "MarkingsInput", "AuditEvent"} <= names


async def test_inputs_left_without_markings_get_the_default(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "unmik.analyst",
        'mutation { createCase(input: {title: "Stolen icons at Deçan", theatre: "KOS"}) '
        "{ ... on CasePayload { case { markings { classification tlp } } } } }",
    )
    assert body["data"]["createCase"]["case"]["markings"] == {"classification": "RESTRICTED", "tlp": "AMBER"}


async def test_invalid_variables_are_explained_not_masked(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "unmik.analyst",
        "mutation($input: CreateCaseInput!) { createCase(input: $input) { __typename } }",
        {"input": {"title": 5}},
    )
    messages = " ".join(e["message"] for e in body["errors"])
    assert "Unexpected error" not in messages
    assert "theatre" in messages
