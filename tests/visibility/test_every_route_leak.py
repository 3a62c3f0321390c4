"""Every read route, not a list of known ones: an id of a record the reader may not read
gets exactly the answer a random id gets, wherever a route takes a record id (a path
segment or a query filter), and no list a reader is shown carries such an id.

The routes come from the OpenAPI description and the GraphQL schema as the app builds
them, so a route added later is swept without anyone remembering to add it here.
"""

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import load_principal
from ocpo_coord.db.engine import make_async_engine
from ocpo_coord.models import Record
from ocpo_coord.schema import schema as graphql_schema
from ocpo_coord.visibility.readable import readable
from tests.conftest import auth

# Outsiders of each kind: host nation, another agency, another theatre, the
# installation's administrator (who administers, and reads nothing by that alone).
READERS = ["kp.investigator", "eulex.prosecutor", "kfor.j2", "minustah.analyst", "admin"]
PER_KIND = 1
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What differs between two answers for reasons other than the id asked for.
VOLATILE = re.compile(
    r'"(request_id|generated_at|at|now|as_of|created_at|updated_at)":\s*"[^"]*"|'
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"
)


async def _hidden(db_url: str, login: str) -> tuple[dict[str, list[str]], set[str]]:
    """A few records of each kind the reader may not read, and every such id."""
    engine = make_async_engine(db_url)
    try:
        async with AsyncSession(engine) as session:
            principal = await load_principal(session, login)
            now = datetime.now(UTC)
            everything = {(str(i), k) for i, k in (await session.exec(select(Record.id, Record.kind))).all()}
            visible = {
                str(i)
                for i in (await session.exec(select(Record.id).where(readable(principal, now=now)))).all()
            }
    finally:
        await engine.dispose()
    by_kind: dict[str, list[str]] = {}
    for record_id, kind in sorted(everything):
        if record_id not in visible and len(by_kind.setdefault(str(kind), [])) < PER_KIND:
            by_kind[str(kind)].append(record_id)
    return by_kind, {i for i, _ in everything} - visible


def _routes(app: FastAPI) -> list[tuple[str, list[str], list[str]]]:
    """GET routes: path, the path parameters, the query parameters that name records."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        params = get.get("parameters", [])
        in_path = [p["name"] for p in params if p["in"] == "path"]
        named = [p["name"] for p in params if p["in"] == "query" and re.search(r"(^|_)ids?$", p["name"])]
        required = [p["name"] for p in params if p["in"] == "query" and p.get("required")]
        if not required:
            found.append((path, in_path, named))
    return found


def _shape(response: httpx.Response, asked: str) -> str:
    body = response.text.replace(asked, "<asked>")
    return f"{response.status_code} {VOLATILE.sub('<t>', body)}"


async def _answer(client: httpx.AsyncClient, login: str, path: str, query: dict[str, str]) -> httpx.Response:
    return await client.get(path, params=query, headers=auth(login))


async def test_an_unreadable_id_answers_as_a_random_one_on_every_rest_route(
    app: FastAPI, client: httpx.AsyncClient, db_url: str
) -> None:
    routes = _routes(app)
    assert any("{case_id}" in p for p, _, _ in routes), "the sweep sees the record routes"
    swept = 0
    for login in READERS:
        by_kind, _ = await _hidden(db_url, login)
        assert by_kind, f"{login} may read everything: the sweep would prove nothing"
        for path, in_path, named in routes:
            for hidden in [i for ids in by_kind.values() for i in ids]:
                missing = str(uuid.uuid4())
                if in_path:
                    filled = {name: "{" + name + "}" for name in in_path}
                    if any(not name.endswith("_id") for name in in_path):
                        continue
                    a = await _answer(client, login, path.format(**dict.fromkeys(filled, hidden)), {})
                    b = await _answer(client, login, path.format(**dict.fromkeys(filled, missing)), {})
                    assert _shape(a, hidden) == _shape(b, missing), (login, path, hidden)
                    swept += 1
                for name in named if not in_path else []:
                    a = await _answer(client, login, path, {name: hidden})
                    b = await _answer(client, login, path, {name: missing})
                    assert _shape(a, hidden) == _shape(b, missing), (login, path, name, hidden)
                    swept += 1
    assert swept > 100


async def test_no_list_a_reader_is_shown_names_a_record_they_may_not_read(
    app: FastAPI, client: httpx.AsyncClient, db_url: str
) -> None:
    for login in READERS:
        _, hidden = await _hidden(db_url, login)
        for path, in_path, _ in _routes(app):
            if in_path:
                continue
            response = await _answer(client, login, path, {})
            leaked = set(UUID_TEXT.findall(response.text)) & hidden
            assert not leaked, (login, path, leaked)


def _named(type_ref: dict[str, Any]) -> dict[str, Any]:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    return type_ref


def _selection(types: dict[str, Any], name: str, depth: int) -> str:
    """Every argument-free field of a type, objects to ``depth`` levels: what a client
    could learn from the answer, not just whether one came."""
    kind = types[name]["kind"]
    if kind in ("INTERFACE", "UNION") or depth < 0:
        return "__typename"
    parts = ["__typename"]
    for field in types[name]["fields"] or []:
        if any(a["type"]["kind"] == "NON_NULL" for a in field["args"]):
            continue
        target = _named(field["type"])
        if target["kind"] in ("SCALAR", "ENUM"):
            parts.append(field["name"])
        elif depth > 0:
            parts.append(f"{field['name']} {{ {_selection(types, target['name'], depth - 1)} }}")
    return " ".join(parts)


IDS = ("ID", "UUID")


def _id_slots(types: dict[str, Any], arg: dict[str, Any]) -> list[tuple[str, bool]]:
    """Where an argument takes a record id: itself, or a field of its input object.
    Each slot is a template with ``VALUE`` where the id goes, and whether it is a list."""
    named = _named(arg["type"])
    is_list = "LIST" in json.dumps(arg["type"])
    if named["name"] in IDS and arg["name"] not in ("after", "before"):
        return [(f"{arg['name']}: VALUE", is_list)]
    if named["kind"] != "INPUT_OBJECT":
        return []
    return [
        (f"{arg['name']}: {{{inner['name']}: VALUE}}", "LIST" in json.dumps(inner["type"]))
        for inner in types[named["name"]]["inputFields"]
        if _named(inner["type"])["name"] in IDS
    ]


def _graphql_probes(types: dict[str, Any], query_type: str) -> list[tuple[str, str, bool, str]]:
    probes = []
    for field in types[query_type]["fields"]:
        for arg in field["args"]:
            others = [
                a
                for a in field["args"]
                if a is not arg and a["type"]["kind"] == "NON_NULL" and a["defaultValue"] is None
            ]
            if others:
                continue
            target = _named(field["type"])
            selection = (
                ""
                if target["kind"] in ("SCALAR", "ENUM")
                else f"{{ {_selection(types, target['name'], 2)} }}"
            )
            probes += [(field["name"], slot, is_list, selection) for slot, is_list in _id_slots(types, arg)]
    return probes


async def test_every_graphql_field_taking_an_id_answers_an_unreadable_one_as_a_random_one(
    client: httpx.AsyncClient, db_url: str
) -> None:
    # Introspection is off over HTTP; the schema object answers it in-process.
    schema = graphql_schema.introspect()["__schema"]
    probes = _graphql_probes({t["name"]: t for t in schema["types"]}, schema["queryType"]["name"])
    fields = {field for field, _, _, _ in probes}
    assert {"node", "grants", "tasks", "intelItems", "auditEvents"} <= fields, fields
    for login in READERS:
        by_kind, _ = await _hidden(db_url, login)
        for hidden in [i for ids in by_kind.values() for i in ids]:
            missing = str(uuid.uuid4())
            for field, slot, is_list, selection in probes:
                answers = []
                for asked in (hidden, missing):
                    value = slot.replace("VALUE", json.dumps([asked] if is_list else asked))
                    query = f"{{ probe: {field}({value}) {selection} }}"
                    response = await client.post("/graphql", json={"query": query}, headers=auth(login))
                    assert "Cannot query field" not in response.text, response.text
                    assert "Unknown argument" not in response.text, response.text
                    answers.append(_shape(response, asked))
                assert answers[0] == answers[1], (login, field, slot, hidden)
