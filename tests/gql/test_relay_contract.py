"""The GraphQL contract as Relay reads it, and what a production schema keeps to itself.

``relay-compiler`` (npm) compiles the example operations of ``graphql/operations/`` and,
for every connection field of ``graphql/schema.graphql``, a query or fragment that pages it
with ``@connection``, against the committed schema. It runs through ``npx`` at the pinned
version below; without npm the test is skipped and says so.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import graphql
import httpx
import pytest
from fastapi import FastAPI

from ocpo_coord import schema as gql_schema
from ocpo_coord.app import create_app
from ocpo_coord.config import Settings
from tests.conftest import gql

RELAY_COMPILER = "relay-compiler@21.0.1"
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "graphql" / "schema.graphql"
OPERATIONS = ROOT / "graphql" / "operations"


def _type_name(graphql_type: graphql.GraphQLType) -> str:
    return str(graphql_type)


def connection_documents(schema: graphql.GraphQLSchema) -> dict[str, str]:
    """Module name -> a Relay document paging one connection field with @connection."""
    documents: dict[str, str] = {}
    for type_name, owner in sorted(schema.type_map.items()):
        if type_name.startswith("__") or not isinstance(owner, graphql.GraphQLObjectType):
            continue
        for field_name, field in sorted(owner.fields.items()):
            named = graphql.get_named_type(field.type)
            if not named.name.endswith("Connection") or "first" not in field.args:
                continue
            required = {
                name: arg
                for name, arg in field.args.items()
                if graphql.is_non_null_type(arg.type)
                and arg.default_value is graphql.Undefined
                and name not in ("first", "after")
            }
            first = _type_name(field.args["first"].type)
            arguments = ", ".join(["first: $first", "after: $after"] + [f"{n}: ${n}" for n in required])
            module = f"Relay{type_name}{field_name[0].upper()}{field_name[1:]}"
            selection = (
                f'{field_name}({arguments}) @connection(key: "{module}_{field_name}") '
                "{ edges { cursor node { __typename } } pageInfo { hasNextPage endCursor "
                "hasPreviousPage startCursor } }"
            )
            if owner is schema.query_type:
                variables = ", ".join(
                    [f"$first: {first}" if first.endswith("!") else f"$first: {first} = 10", "$after: String"]
                    + [f"${n}: {_type_name(a.type)}" for n, a in required.items()]
                )
                documents[module] = f"query {module}Query({variables}) {{ {selection} }}"
            else:
                definitions = ", ".join(
                    [
                        f'first: {{type: "{first}"}}'
                        if first.endswith("!")
                        else f'first: {{type: "{first}", defaultValue: 10}}',
                        'after: {type: "String"}',
                    ]
                    + [f'{n}: {{type: "{_type_name(a.type)}"}}' for n, a in required.items()]
                )
                documents[module] = (
                    f"fragment {module}_{owner.name[0].lower()}{owner.name[1:]} on {type_name} "
                    f"@argumentDefinitions({definitions}) {{ {selection} }}"
                )
    return documents


def operation_documents() -> dict[str, str]:
    """The example operations, named as Relay wants: <Module>Query / <Module>Mutation."""
    documents = {}
    for path in sorted(OPERATIONS.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        documents[path.stem] = re.sub(
            r"^(query|mutation) (\w+)",
            lambda m: f"{m.group(1)} {m.group(2)}{m.group(1).capitalize()}",
            text,
            flags=re.MULTILINE,
        )
    return documents


def test_every_connection_is_found_for_the_relay_check() -> None:
    documents = connection_documents(graphql.build_schema(SCHEMA.read_text(encoding="utf-8")))
    assert len(documents) >= 18, sorted(documents)


def test_relay_compiler_accepts_the_operations_and_every_connection(tmp_path: Path) -> None:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npm is not installed: relay-compiler runs through npx")
    schema = graphql.build_schema(SCHEMA.read_text(encoding="utf-8"))
    shutil.copy(SCHEMA, tmp_path / "schema.graphql")
    source = tmp_path / "src"
    source.mkdir()
    for module, document in {**operation_documents(), **connection_documents(schema)}.items():
        (source / f"{module}.js").write_text(f"graphql`\n{document}\n`;\n", encoding="utf-8")
    (tmp_path / "relay.config.json").write_text(
        json.dumps({"src": "./src", "schema": "./schema.graphql", "language": "javascript"})
    )
    result = subprocess.run(
        [npx, "--yes", RELAY_COMPILER],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "ENOTFOUND" in result.stderr + result.stdout:
        pytest.skip(f"npm cannot fetch {RELAY_COMPILER}: no registry reachable")
    assert result.returncode == 0, result.stdout + result.stderr


async def test_page_info_answers_the_relay_fields(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "unmik.analyst",
        "{ cases(first: 2) { edges { cursor } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }",
    )
    cases = body["data"]["cases"]
    cursors = [edge["cursor"] for edge in cases["edges"]]
    assert cases["pageInfo"]["startCursor"] == cursors[0]
    assert cases["pageInfo"]["endCursor"] == cursors[-1]
    # Forward paging only: false, as the Relay specification allows, also after a cursor.
    assert cases["pageInfo"]["hasPreviousPage"] is False
    after = await gql(
        client,
        "unmik.analyst",
        "query($after: String) { cases(first: 2, after: $after) { pageInfo { hasPreviousPage startCursor } } }",
        {"after": cursors[-1]},
    )
    assert after["data"]["cases"]["pageInfo"]["hasPreviousPage"] is False
    empty = await gql(
        client,
        "unmik.analyst",
        '{ cases(first: 2, filter: {text: "no case is called this"}) { pageInfo { startCursor endCursor } } }',
    )
    assert empty["data"]["cases"]["pageInfo"] == {"startCursor": None, "endCursor": None}


@pytest.fixture
async def closed_client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> httpx.AsyncClient:
    """The service as production serves GraphQL: introspection off."""
    closed = Settings(introspection=False, graphiql=False)
    monkeypatch.setattr(gql_schema, "get_settings", lambda: closed)
    app: FastAPI = create_app(database_url=db_url)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://ocpo.test")


async def test_without_introspection_errors_suggest_no_names(closed_client: httpx.AsyncClient) -> None:
    async with closed_client as client:
        answers = [
            await gql(client, "unmik.analyst", "{ casez(first: 1) { totalCount } }"),
            await gql(client, "unmik.analyst", "{ cases(first: 1) { totalCont } }"),
            await gql(
                client,
                "unmik.analyst",
                "query($f: CaseFilter) { cases(first: 1, filter: $f) { totalCount } }",
                {"f": {"status": "OPN"}},
            ),
            await gql(client, "unmik.analyst", "{ __schema { types { name } } }"),
        ]
    messages = [error["message"] for answer in answers for error in answer.get("errors", [])]
    assert len(messages) >= 4, answers
    assert not [m for m in messages if "Did you mean" in m], messages
    assert not [m for m in messages if re.search(r"\b(cases|totalCount|OPEN)\b", m)], messages
