"""The database goes away: every request is answered at once, 503 with Retry-After, in
one log line each; the readiness probe says so within its bound; the service recovers
when the database is back. PostgreSQL only, behind a proxy the test cuts or pauses."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable

import httpx
import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ocpo_coord.api.unavailable import database_unavailable
from ocpo_coord.app import create_app
from ocpo_coord.config import Settings
from tests.conftest import auth
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.records import CANARY, assert_no_canary, item

# Each request must come back well within this, whatever the database does.
HANG_GUARD = 20.0
CASES = "/api/v1/cases"
CASES_QUERY = {"query": "{ cases(first: 5) { edges { node { id title } } } }"}


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def proxy_and_client(db_url: str) -> AsyncIterator[tuple[TcpProxy, httpx.AsyncClient]]:
    proxy, through = await TcpProxy.before(db_url)
    settings = Settings(
        db_connect_timeout_seconds=2,
        db_statement_timeout_seconds=0.5,
        db_pool_timeout_seconds=1,
        ready_timeout_seconds=1,
    )
    app = create_app(database_url=through, settings=settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as client:
            yield proxy, client
    finally:
        await proxy.close()
        await app.state.sessionmaker.kw["bind"].dispose()


async def within_guard(request: Awaitable[httpx.Response]) -> httpx.Response:
    return await asyncio.wait_for(request, timeout=HANG_GUARD)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    detail = response.json()["detail"]
    assert detail["code"] == "SERVICE_UNAVAILABLE"
    assert set(detail) == {"code", "message", "field"}


async def all_refused(client: httpx.AsyncClient) -> list[httpx.Response]:
    login = auth("unmik.analyst")
    return [
        await within_guard(client.get(CASES, headers=login)),
        await within_guard(client.post("/api/v1/intel-items", json=item(CANARY), headers=login)),
        await within_guard(client.post("/graphql", json=CASES_QUERY, headers=login)),
    ]


def assert_one_line_each(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    outage_lines = [r for r in caplog.records if r.name == "ocpo_coord.unavailable"]
    assert len(outage_lines) == requests, [r.getMessage() for r in outage_lines]
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(not r.exc_info and not r.exc_text for r in loud), [r.getMessage() for r in loud]
    assert_no_canary(caplog.text)


async def assert_recovers(client: httpx.AsyncClient) -> None:
    ready = await within_guard(client.get("/readyz"))
    assert ready.status_code == 200, ready.text
    # The pool may hand out one connection that died with the outage: one retry at most.
    answers = [(await within_guard(client.get(CASES, headers=auth("unmik.analyst")))).status_code]
    if answers[0] != 200:
        answers.append((await within_guard(client.get(CASES, headers=auth("unmik.analyst")))).status_code)
    assert answers[-1] == 200, answers
    graphql = await within_guard(client.post("/graphql", json=CASES_QUERY, headers=auth("unmik.analyst")))
    assert graphql.status_code == 200
    assert "errors" not in graphql.json()


async def test_a_database_that_refuses_connections_is_an_outage_not_an_error(
    proxy_and_client: tuple[TcpProxy, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, client = proxy_and_client
    assert (await client.get(CASES, headers=auth("unmik.analyst"))).status_code == 200
    await proxy.cut()
    caplog.clear()

    for response in await all_refused(client):
        assert_unavailable(response)
    assert_one_line_each(caplog, 3)
    ready = await within_guard(client.get("/readyz"))
    assert ready.status_code == 503
    assert ready.headers["retry-after"].isdigit()

    await proxy.restore()
    await assert_recovers(client)


async def test_a_database_that_stops_answering_is_given_up_on(
    proxy_and_client: tuple[TcpProxy, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, client = proxy_and_client
    assert (await client.get(CASES, headers=auth("unmik.analyst"))).status_code == 200
    proxy.pause()
    caplog.clear()

    # The probe answers within its own bound, so a load balancer can take the instance out.
    ready = await asyncio.wait_for(client.get("/readyz"), timeout=5)
    assert ready.status_code == 503
    for response in await all_refused(client):
        assert_unavailable(response)
    assert_one_line_each(caplog, 3)

    await proxy.restore()
    await assert_recovers(client)


async def test_a_database_that_stops_answering_mid_write_writes_nothing(
    proxy_and_client: tuple[TcpProxy, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    """The write's statements went out, its commit never came back: the client is told
    503, and the record does not exist once the database is back."""
    proxy, client = proxy_and_client
    login = auth("unmik.analyst")
    assert (await client.get(CASES, headers=login)).status_code == 200
    write = asyncio.create_task(client.post("/api/v1/intel-items", json=item(CANARY), headers=login))
    await asyncio.sleep(0)
    proxy.pause()
    response = await within_guard(write)
    await proxy.restore()
    if response.status_code != 201:  # the pause came before the commit
        assert_unavailable(response)
        await assert_recovers(client)
        listed = await client.get("/api/v1/intel-items", headers=login)
        assert "Meeting at the Ibar bridge" not in listed.text
    assert_no_canary(caplog.text)


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (PoolTimeout("QueuePool limit of size 5 overflow 10 reached"), True),
        (OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")), True),
        (OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection")), True),
        (OperationalError("SELECT 1", {}, psycopg.errors.QueryCanceled("statement timeout")), True),
        (IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")), False),
        (ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("no such table")), False),
        (ValueError("a bug"), False),
    ],
    ids=["pool", "refused", "shutdown", "statement-timeout", "unique", "schema", "bug"],
)
def test_which_failures_are_outages(error: Exception, outage: bool) -> None:
    """An outage is 503 and one line; anything else is the service's fault: 500."""
    assert database_unavailable(error) is outage
