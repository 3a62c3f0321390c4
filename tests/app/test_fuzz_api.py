"""Hostile input cannot break the service: schemathesis against both API descriptions.

Every operation of the OpenAPI description (``/openapi.json``) and every query and
mutation field of the GraphQL schema is called in-process with generated input, both
valid by the description (positive) and invalid on purpose (negative), signed in with a
real token (``unmik.chief``) on a migrated and seeded database of each backend. Every
answer must:

- not be a server error: no 5xx, no exception escaping the application, no masked
  (``INTERNAL_ERROR``) GraphQL error;
- conform to the description: content type and body schema of each documented REST
  response, GraphQL answers that are JSON objects whose non-null fields are never null;
- carry the service's error envelope ``{"detail": {"code", "message", "field"}}`` on
  every REST 4xx.

Path parameters and GraphQL ``ID`` arguments are drawn, about half of the time, from ids
that exist (seeded records, sharing groups, agreements, and what the fuzz itself created),
so the handlers behind a found record run too, not only the 404 path. GraphQL
introspection is off outside development, so the GraphQL schema is read from the in-code
schema the endpoint serves (the one exported to ``graphql/schema.graphql``).

Defects it found were fixed where they arose: an explicit ``null`` for a required field
(422 naming it), a NUL character in any input (422 at the door: PostgreSQL refuses NUL in
text), framework errors outside the envelope, and undocumented 4xx answers.
``KNOWN_SERVER_ERRORS`` lets a newly found defect be pinned while it is being fixed.

The CI run is bounded and derandomised (the same cases on every run): a few examples per
operation and generation mode, fewer on PostgreSQL. A longer, random fuzz, e.g.::

    OCPO_FUZZ_EXAMPLES=200 OCPO_FUZZ_RANDOM=1 .venv/bin/pytest tests/app/test_fuzz_api.py -k survive

``OCPO_FUZZ_EXAMPLES`` is per operation and generation mode, for both backends (add
``-k sqlite`` for one); ``OCPO_FUZZ_RANDOM=1`` draws new cases each run. A failure prints
the curl command (REST) or the GraphQL document that reproduces it, and the traceback the
application logged.
"""

import logging
import os
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import graphql
import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.graphql import nodes
from schemathesis.python import asgi
from sqlmodel import Session, select

from ocpo_coord.app import create_app
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.models import (
    AccessRequest,
    Agency,
    Record,
    RecordGrant,
    SharingAgreement,
    SharingGroup,
    Theatre,
    User,
)
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.schema import schema as graphql_schema
from tests.conftest import auth, gql

LOGIN = "unmik.chief"
RANDOM = os.environ.get("OCPO_FUZZ_RANDOM", "") not in ("", "0")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]
Case: TypeAlias = schemathesis.Case[Operation]
CheckFunction = Callable[[schemathesis.CheckContext, schemathesis.Response, Case], bool | None]


def examples_for(backend: str, *, sqlite: int, postgresql: int) -> int:
    explicit = os.environ.get("OCPO_FUZZ_EXAMPLES")
    if explicit:
        return int(explicit)
    return sqlite if backend == "sqlite" else postgresql


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        # Generating whole request bodies from a large schema is slow by design.
        suppress_health_check=(
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ),
    )


# -- known defects: signatures of server errors being fixed (none at present) ------------------


KNOWN_SERVER_ERRORS: tuple[Callable[[BaseException], bool], ...] = ()


# -- ids that exist -----------------------------------------------------------------------------

# Path parameter -> the pool of existing ids it is drawn from.
POOL_OF_PARAMETER = {
    "case_id": "cases",
    "note_id": "notes",
    "item_id": "intel-items",
    "evidence_id": "evidence",
    "entity_id": "entities",
    "task_id": "tasks",
    "record_id": "records",
    "group_id": "sharing-groups",
    "agreement_id": "agreements",
    "request_id": "access-requests",
    "grant_id": "grants",
    "agency": "agencies",
}
POOL_OF_KIND = {
    RecordKind.CASE: "cases",
    RecordKind.NOTE: "notes",
    RecordKind.INTEL_ITEM: "intel-items",
    RecordKind.EVIDENCE: "evidence",
    RecordKind.ENTITY: "entities",
    RecordKind.TASK: "tasks",
}
RECORD_POOLS = frozenset(POOL_OF_KIND.values())
NAME_POOLS = frozenset({"agencies", "theatres", "logins"})


@dataclass
class Known:
    """Ids present in the database, by pool; the fuzz adds what it creates."""

    pools: dict[str, list[str]] = field(default_factory=dict)

    def add(self, pool: str, value: str) -> None:
        values = self.pools.setdefault(pool, [])
        if value not in values:
            values.append(value)
        if pool in RECORD_POOLS:
            self.add("records", value)

    def ids(self) -> list[str]:
        return sorted({v for name, vs in self.pools.items() if name not in NAME_POOLS for v in vs})


def known_in(db_url: str) -> Known:
    known = Known()
    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as session:
            for record in session.exec(select(Record)).all():
                known.add(POOL_OF_KIND.get(RecordKind(record.kind), "records"), str(record.id))
            for pool, model in (
                ("sharing-groups", SharingGroup),
                ("agreements", SharingAgreement),
                ("access-requests", AccessRequest),
                ("grants", RecordGrant),
            ):
                for row_id in session.exec(select(model.id)).all():
                    known.add(pool, str(row_id))
            for code in session.exec(select(Agency.code)).all():
                known.add("agencies", code)
            for code in session.exec(select(Theatre.code)).all():
                known.add("theatres", code)
            for login in session.exec(select(User.login)).all():
                known.add("logins", login)
    finally:
        engine.dispose()
    return known


def pool_of_response(path: str) -> str:
    """The pool an id returned by an operation on ``path`` belongs to."""
    if path.endswith("/grants"):
        return "grants"
    return path.removeprefix("/api/v1/").split("/")[0]


# -- running the fuzz ---------------------------------------------------------------------------


@contextmanager
def served(db_url: str) -> Iterator[FastAPI]:
    """The app of one test database. schemathesis serves ASGI apps from one event loop
    thread of its own and keeps their lifespans running; ending the lifespan disposes of
    the engine there, in the loop its connections belong to."""
    app = create_app(database_url=db_url)
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()


class LoggedErrors(logging.Handler):
    """Errors the application logs while it serves a request (strawberry's masked
    errors, the last-resort 500 handler), with their exceptions."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def exceptions(self) -> list[BaseException]:
        return [r.exc_info[1] for r in self.records if r.exc_info and r.exc_info[1] is not None]

    def tracebacks(self) -> str:
        return "\n".join("".join(traceback.format_exception(exc)) for exc in self.exceptions())

    def only_known_defects(self) -> bool:
        found = self.exceptions()
        return bool(found) and all(any(known(exc) for known in KNOWN_SERVER_ERRORS) for exc in found)


@contextmanager
def logged_errors() -> Iterator[LoggedErrors]:
    logger = logging.getLogger()
    handler = LoggedErrors()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def describe(exc: BaseException) -> str:
    """A failure as a reproduction: the checks' report with its curl command, or the
    traceback of an exception that escaped the application."""
    if isinstance(exc, FailureGroup):
        parts = [exc.message]
    elif isinstance(exc, BaseExceptionGroup):
        parts = [describe(inner) for inner in exc.exceptions]
    else:
        parts = ["".join(traceback.format_exception(exc))]
    parts.extend(note for note in getattr(exc, "__notes__", []) if note not in parts)
    return "\n".join(parts)


def operations_of(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation; a description schemathesis cannot read is a failure in itself."""
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def fuzz(
    operations: list[Operation],
    *,
    examples: int,
    strategy: Callable[[Operation, GenerationMode], st.SearchStrategy[Case]],
    call: Callable[[Case], None],
) -> list[str]:
    """Run every operation in every mode; return a report per failing one."""
    failures: list[str] = []
    for operation in operations:
        for mode in MODES:
            cases = strategy(operation, mode)

            @fuzz_settings(examples)
            @given(case=cases)
            def run(case: Case) -> None:
                call(case)

            try:
                run()
            except Unsatisfiable:
                # Negative mode on an operation that takes no input: nothing to make invalid.
                if mode is GenerationMode.POSITIVE:
                    raise
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"=== {mode.value} {operation.label}\n{describe(exc)}")
    return failures


def caller(
    headers: dict[str, str], checks: list[CheckFunction], logged: LoggedErrors
) -> Callable[[Case], None]:
    def call(case: Case) -> None:
        logged.records.clear()
        try:
            case.call_and_validate(headers=headers, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:
            if not isinstance(exc, FailureGroup):  # the checks' report names the request itself
                exc.add_note(f"Request: {case.as_curl_command()}\nBody: {case.body!r}")
            if logged.records:
                exc.add_note(f"Logged by the application:\n{logged.tracebacks()}")
            raise

    return call


def not_a_server_error(logged: LoggedErrors) -> CheckFunction:
    def not_a_server_error(
        ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
    ) -> bool | None:
        if response.status_code >= 500 and logged.only_known_defects():
            return None
        result: bool | None = schemathesis.checks.not_a_server_error(ctx, response, case)
        return result

    return not_a_server_error


# -- REST ---------------------------------------------------------------------------------------


def error_envelope(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """Every 4xx carries {"detail": {"code", "message", "field"}} (ocpo_coord/api/errors.py)."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:300]!r}") from None
    detail = body.get("detail") if isinstance(body, dict) else None
    problem = f"{response.status_code} without the error envelope: {response.text[:300]}"
    assert isinstance(detail, dict), problem
    assert isinstance(detail.get("code"), str), problem
    assert isinstance(detail.get("message"), str), problem
    assert "field" in detail, problem
    assert detail["field"] is None or isinstance(detail["field"], str), problem
    return None


def documented_bodies_conform(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """The body schema of every documented response, errors included."""
    result: bool | None = schemathesis.checks.response_schema_conformance(ctx, response, case)
    return result


def collects_ids(known: Known) -> CheckFunction:
    def collect_ids(
        ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
    ) -> bool | None:
        if response.status_code in (200, 201) and case.method.upper() != "GET":
            try:
                body = response.json()
            except ValueError:
                return None
            if isinstance(body, dict) and isinstance(body.get("id"), str):
                known.add(pool_of_response(case.path), body["id"])
        return None

    return collect_ids


# Body fields that must name something that exists, which the description cannot tell
# (free strings): half of the positive cases get existing values for them.
BODY_POOLS = {
    "theatre": "theatres",
    "case_id": "cases",
    "case_ids": "cases",
    "grantee_agency": "agencies",
    "participating_agencies": "agencies",
    "supporting_agencies": "agencies",
    "members": "logins",
}
LIST_FIELDS = frozenset({"case_ids", "participating_agencies", "supporting_agencies", "members"})
# Headers that make most generated writes fail early (a random ETag, a reused key).
PRECONDITION_HEADERS = frozenset({"if-match", "idempotency-key"})


def with_existing_values(case: Case, known: Known) -> st.SearchStrategy[Case]:
    body = case.body if isinstance(case.body, dict) else {}
    choices: dict[str, st.SearchStrategy[Any]] = {}
    for key, pool in BODY_POOLS.items():
        values = tuple(known.pools.get(pool, ()))
        if key in body and values:
            one = st.sampled_from(values)
            choices[key] = st.lists(one, min_size=1, max_size=2, unique=True) if key in LIST_FIELDS else one

    def rebuilt(values: dict[str, Any]) -> Case:
        return case.operation.Case(
            method=case.method,
            path_parameters=case.path_parameters,
            headers={k: v for k, v in (case.headers or {}).items() if k.lower() not in PRECONDITION_HEADERS},
            cookies=case.cookies,
            query=case.query,
            body={**body, **values} if isinstance(case.body, dict) else case.body,
            media_type=case.media_type,
        )

    return st.fixed_dictionaries(choices).map(rebuilt)


def rest_strategy(known: Known) -> Callable[[Operation, GenerationMode], st.SearchStrategy[Case]]:
    def strategy(operation: Operation, mode: GenerationMode) -> st.SearchStrategy[Case]:
        generated = operation.as_strategy(generation_mode=mode)
        if mode is not GenerationMode.POSITIVE:
            return generated
        names = [parameter.name for parameter in operation.path_parameters]
        pools = {name: tuple(known.pools.get(POOL_OF_PARAMETER.get(name, ""), ())) for name in names}
        if names and all(pools.values()):
            existing = st.fixed_dictionaries({name: st.sampled_from(pool) for name, pool in pools.items()})
            generated = st.one_of(
                generated,
                existing.flatmap(
                    lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values)
                ),
            )
        return st.one_of(generated, generated.flatmap(lambda case: with_existing_values(case, known)))

    return strategy


# Each test fuzzes every SHARDS-th operation, so the work spreads over the test workers.
SHARDS = 3


@pytest.mark.parametrize("shard", range(SHARDS))
def test_rest_operations_survive_generated_input(db_url: str, backend: str, shard: int) -> None:
    examples = examples_for(backend, sqlite=4, postgresql=2)
    known = known_in(db_url)
    with served(db_url) as app, logged_errors() as logged:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = operations_of(schema)
        assert len(operations) >= 40, [o.label for o in operations]
        operations = operations[shard::SHARDS]
        checks: list[CheckFunction] = [
            not_a_server_error(logged),
            schemathesis.checks.content_type_conformance,
            schemathesis.checks.response_headers_conformance,
            documented_bodies_conform,
            error_envelope,
            collects_ids(known),
        ]
        call = caller(auth(LOGIN), checks, logged)
        failures = fuzz(operations, examples=examples, strategy=rest_strategy(known), call=call)
    assert not failures, "\n\n".join(failures)


# -- REST: the known defects, as precise reproductions ------------------------------------------


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the 500 an exception turns into, whichever layer answers it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
        yield http


CASE = {"title": "Fuel tankers at Jarinje", "theatre": "KOS"}
CREATE: dict[str, Callable[[str], dict[str, Any]]] = {
    "cases": lambda case_id: CASE,
    "notes": lambda case_id: {"case_id": case_id, "body": "Informant met at the café."},
    "intel-items": lambda case_id: {
        "title": "Truck seen loading at night",
        "content": "A white Iveco loads cartons after midnight.",
        "information_date": "2008-06-02",
        "source_reliability": "B",
        "information_credibility": "2",
        "theatre": "KOS",
    },
    "evidence": lambda case_id: {
        "case_id": case_id,
        "evidence_kind": "file",
        "title": "Photo of the truck",
        "sha256": "a" * 64,
        "file_name": "truck.jpg",
        "size_bytes": 1024,
    },
    "entities": lambda case_id: {"entity_kind": "person", "label": "Driver of the Iveco"},
    "tasks": lambda case_id: {
        "title": "Identify the owner",
        "activity_area": "information_gathering",
        "theatre": "KOS",
    },
    "sharing-groups": lambda case_id: {"name": "Merdare crossing cell", "members": ["EULEX"]},
}


@pytest.mark.parametrize(
    "collection",
    [
        "cases",
        "notes",
        "intel-items",
        "evidence",
        "entities",
        "tasks",
        "sharing-groups",
    ],
)
async def test_an_explicit_null_in_a_patch_is_never_a_server_error(
    app: FastAPI, raw_client: httpx.AsyncClient, collection: str
) -> None:
    """PATCH {"<field>": null} for every field of each update body, one at a time, on a
    record the caller owns: a 2xx (cleared) or a 422, never a 500."""
    headers = auth(LOGIN)
    case = await raw_client.post("/api/v1/cases", json=CASE, headers=headers)
    assert case.status_code == 201, case.text
    created = await raw_client.post(
        f"/api/v1/{collection}", json=CREATE[collection](case.json()["id"]), headers=headers
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/{collection}/{created.json()['id']}"
    description = app.openapi()
    patch = next(
        ops["patch"] for p, ops in description["paths"].items() if p.startswith(f"/api/v1/{collection}/{{")
    )
    reference = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = description["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
    server_errors = []
    for name in fields:
        response = await raw_client.patch(path, json={name: None}, headers=headers)
        if response.status_code >= 500:
            server_errors.append(name)
    assert not server_errors, (
        f"PATCH /api/v1/{collection}/{{id}} with {{field: null}} answers 500 for {server_errors}"
    )


async def test_a_nul_character_in_text_input_is_never_a_server_error(
    raw_client: httpx.AsyncClient, backend: str, request: pytest.FixtureRequest
) -> None:
    """Found by the random fuzz (GET /api/v1/tasks?text=...%00...). SQLite takes a NUL
    character; PostgreSQL refuses it in text, so the service must refuse it first."""
    headers = auth(LOGIN)
    answers = {
        f"GET /api/v1/{c}?text=": await raw_client.get(
            f"/api/v1/{c}", params={"text": "a\x00b"}, headers=headers
        )
        for c in ("cases", "intel-items", "tasks", "entities")
    }
    answers["POST /api/v1/cases title"] = await raw_client.post(
        "/api/v1/cases", json={**CASE, "title": "Fuel\x00tankers"}, headers=headers
    )
    answers["POST /api/v1/cases theatre"] = await raw_client.post(
        "/api/v1/cases", json={**CASE, "theatre": "K\x00OS"}, headers=headers
    )
    broken = [name for name, answer in answers.items() if answer.status_code >= 500]
    graph = await raw_client.post(
        "/graphql",
        json={"query": 'mutation { createCase(input: {title: "a\\u0000b", theatre: "KOS"}) { __typename } }'},
        headers=headers,
    )
    if graph.status_code >= 500 or "errors" in graph.json():
        broken.append(f"GraphQL createCase: {graph.text}")
    assert not broken, broken
    # Refused at the door, in the error envelope, naming the problem.
    assert {a.status_code for a in answers.values()} == {422}
    assert graph.status_code == 422
    assert graph.json()["detail"]["message"] == "the request may not contain NUL characters"


async def test_framework_errors_use_the_error_envelope(raw_client: httpx.AsyncClient) -> None:
    headers = auth(LOGIN)
    answers = [
        await raw_client.post(
            "/api/v1/cases",
            content=b'{"title": "\xff"}',
            headers={**headers, "Content-Type": "application/json"},
        ),
        await raw_client.get("/api/v1/no-such-collection", headers=headers),
        await raw_client.put("/api/v1/cases", json=CASE, headers=headers),
    ]
    assert [a.status_code for a in answers] == [400, 404, 405]
    wrong = [a.text for a in answers if not isinstance(a.json().get("detail"), dict)]
    assert not wrong, wrong


def test_documented_error_responses_match_what_is_served(db_url: str) -> None:
    """Turns green when every error answer is documented with the body it has."""
    with served(db_url) as app:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        cases = [
            schema["/api/v1/cases"]["GET"].Case(query={"after": "not-a-cursor"}),  # 422
            schema["/api/v1/cases/{case_id}"]["GET"].Case(
                path_parameters={"case_id": str(uuid.uuid4())}
            ),  # 404
            schema["/api/v1/me"]["GET"].Case(),  # 401 below: no token
        ]
        failures = []
        for case, headers in zip(cases, [auth(LOGIN), auth(LOGIN), {}], strict=True):
            try:
                case.call_and_validate(
                    headers=headers,
                    checks=[
                        schemathesis.checks.status_code_conformance,
                        schemathesis.checks.response_schema_conformance,
                    ],
                )
            except FailureGroup as exc:
                failures.append(describe(exc))
    assert not failures, "\n\n".join(failures)


# -- GraphQL ------------------------------------------------------------------------------------

# ID arguments: a random UUID, a string that is no UUID, or an id that exists in the test's
# database. Scalar strategies are registered globally, so the ids come from this list,
# which the GraphQL test fills before it generates anything.
EXISTING_IDS: list[str] = []


def _existing_id(index: int) -> graphql.StringValueNode:
    return nodes.String(EXISTING_IDS[index % len(EXISTING_IDS)] if EXISTING_IDS else str(uuid.uuid4()))


def _json_value(depth: int) -> st.SearchStrategy[graphql.ValueNode]:
    scalars: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        st.text(max_size=20).map(nodes.String),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )
    if depth == 0:
        return scalars
    return st.one_of(scalars, st.lists(_json_value(depth - 1), max_size=3).map(nodes.List))


def _json_object(values: dict[str, graphql.ValueNode]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in values.items()]
    )


# Int arguments are mostly page sizes and versions: often in the range they are valid in,
# as well as anywhere in GraphQL's 32-bit range.
schemathesis.graphql.scalar(
    "Int",
    st.one_of(
        st.integers(min_value=0, max_value=100), st.integers(min_value=-(2**31), max_value=2**31 - 1)
    ).map(nodes.Int),
)
schemathesis.graphql.scalar(
    "ID",
    st.one_of(
        st.uuids().map(str).map(nodes.String),
        st.integers(min_value=0, max_value=10_000).map(_existing_id),
        st.text(max_size=40).map(nodes.String),
    ),
)
# Entity attributes: a JSON object, mostly of strings as the service expects.
schemathesis.graphql.scalar(
    "JSON",
    st.dictionaries(
        st.from_regex(r"[A-Za-z_]\w{0,10}", fullmatch=True),
        st.one_of(st.text(max_size=30).map(nodes.String), _json_value(2)),
        max_size=4,
    ).map(_json_object),
)


def no_graphql_server_error(logged: LoggedErrors) -> CheckFunction:
    def no_graphql_server_error(
        ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
    ) -> bool | None:
        """No 5xx, and no error of our own code: every resolver error is a domain error
        with a code (ocpo_coord/schema.py); anything else is masked as unexpected."""
        assert response.status_code < 500, f"HTTP {response.status_code}: {response.text[:500]}"
        payload = response.json()
        errors = (payload.get("errors") or []) if isinstance(payload, dict) else []
        unexpected = [
            e
            for e in errors
            if (e.get("extensions") or {}).get("code") == "INTERNAL_ERROR"
            or (e.get("path") and not (e.get("extensions") or {}).get("code"))
        ]
        if unexpected and logged.only_known_defects():
            return None
        assert not unexpected, f"server error in a GraphQL answer: {unexpected}"
        return None

    return no_graphql_server_error


def graphql_strategy(operation: Operation, mode: GenerationMode) -> st.SearchStrategy[Case]:
    return operation.as_strategy(generation_mode=mode)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_graphql_fields_survive_generated_input(db_url: str, backend: str, shard: int) -> None:
    examples = examples_for(backend, sqlite=3, postgresql=2)
    EXISTING_IDS[:] = known_in(db_url).ids()
    try:
        with served(db_url) as app, logged_errors() as logged:
            schema = schemathesis.graphql.from_file(graphql_schema.as_str())
            # What schemathesis.graphql.from_asgi sets, without asking the app for introspection.
            schema.app = app
            schema.location = "/graphql"
            operations = operations_of(schema)
            assert len(operations) >= 40, [o.label for o in operations]
            operations = operations[shard::SHARDS]
            checks: list[CheckFunction] = [
                no_graphql_server_error(logged),
                schemathesis.checks.response_schema_conformance,
            ]
            call = caller(auth(LOGIN), checks, logged)
            failures = fuzz(operations, examples=examples, strategy=graphql_strategy, call=call)
    finally:
        EXISTING_IDS.clear()
    assert not failures, "\n\n".join(failures)


async def test_graphql_update_with_an_explicit_null_is_an_input_error(raw_client: httpx.AsyncClient) -> None:
    created = await gql(
        raw_client,
        LOGIN,
        'mutation { createCase(input: {title: "Fuel tankers at Jarinje", theatre: "KOS"}) '
        "{ ... on CasePayload { case { id } } } }",
    )
    case_id = created["data"]["createCase"]["case"]["id"]
    body = await gql(
        raw_client,
        LOGIN,
        "mutation($id: ID!) { updateCase(input: {id: $id, title: null}) { __typename } }",
        {"id": case_id},
    )
    assert "errors" not in body, body
    assert body["data"]["updateCase"]["__typename"] == "InvalidInputError", body
