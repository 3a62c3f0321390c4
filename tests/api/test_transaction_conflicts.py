"""Requests PostgreSQL aborts against each other (deadlock 40P01, serialization
failure 40001) are run again whole, or answered 503 with Retry-After: never a 500,
and the audit log holds exactly the entries of the work that was committed.

Two real requests are driven into opposite lock orders: each locks its own case (the
service's ``FOR NO KEY UPDATE``), waits until the other holds its own, then asks for
the other's (a test hook on the service's engine, run on the request's connection).
PostgreSQL breaks the deadlock by aborting one of them.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only
from sqlmodel import col, select

from ocpo_coord.api import retry
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import AuditEvent, Case, Record
from tests.conftest import auth

EDITOR = "unmik.analyst"


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("row locks and deadlock detection are PostgreSQL's")


async def new_case(client: httpx.AsyncClient, title: str) -> str:
    response = await client.post(
        "/api/v1/cases", json={"title": title, "theatre": "KOS"}, headers=auth(EDITOR)
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


def on_case_lock(app: FastAPI, cases: list[str], react: Callable[[Connection, str], None]) -> None:
    """Calls ``react(connection, case)`` right after a request's statement locking one
    of ``cases`` (the service's row lock on the record) has run."""
    engine = app.state.sessionmaker.kw["bind"].sync_engine

    def after(conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if "FOR NO KEY UPDATE" not in statement:
            return
        text = str(params)
        locked = next((case for case in cases if case in text), None)
        if locked is not None:
            react(conn, locked)

    event.listen(engine, "after_cursor_execute", after)


async def updates_and_cases(
    db_url: str, cases: list[str]
) -> tuple[list[AuditEvent], dict[str, tuple[str, int]]]:
    """The audit log's case updates, and each case's title and version."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            audit = (
                await session.exec(
                    select(AuditEvent)
                    .where(col(AuditEvent.action) == "case.update")
                    .order_by(col(AuditEvent.seq))
                )
            ).all()
            rows = (
                await session.exec(
                    select(Case, Record)
                    .join(Record, col(Record.id) == col(Case.id))
                    .where(col(Case.id).in_(cases))
                )
            ).all()
            return list(audit), {str(case.id): (case.title, record.version) for case, record in rows}
    finally:
        await engine.dispose()


async def test_requests_locking_in_opposite_orders_both_succeed_once(
    postgres_only: None,
    app: FastAPI,
    client: httpx.AsyncClient,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cases = [await new_case(client, "Fuel at Jarinje"), await new_case(client, "Cigarettes at Merdare")]
    holds = {case: asyncio.Event() for case in cases}
    crossed: set[str] = set()

    def take_the_other(conn: Connection, mine: str) -> None:
        if mine in crossed:
            return  # the request's second lock, or its run after the deadlock
        crossed.add(mine)
        holds[mine].set()
        other = next(case for case in cases if case != mine)
        await_only(asyncio.wait_for(holds[other].wait(), 10))
        conn.exec_driver_sql("SELECT 1 FROM record WHERE id = %(id)s FOR UPDATE", {"id": other})

    on_case_lock(app, cases, take_the_other)

    async def rename(case: str, title: str) -> httpx.Response:
        return await client.patch(
            f"/api/v1/cases/{case}", json={"title": title, "expected_version": 1}, headers=auth(EDITOR)
        )

    with caplog.at_level(logging.WARNING, logger="ocpo_coord.unavailable"):
        answers = await asyncio.gather(
            rename(cases[0], "Fuel, renamed"), rename(cases[1], "Cigarettes, renamed")
        )

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    # PostgreSQL did abort one of them: the deadlock happened, and was answered by a rerun.
    aborted = [r for r in caplog.records if "aborted against another" in r.getMessage()]
    assert len(aborted) == 1, [r.getMessage() for r in caplog.records]
    assert "40P01" in aborted[0].getMessage()
    audit, rows = await updates_and_cases(db_url, cases)
    assert {str(e.record_id) for e in audit} == set(cases)
    assert len(audit) == 2  # the aborted run left no entry
    assert rows[cases[0]] == ("Fuel, renamed", 2)
    assert rows[cases[1]] == ("Cigarettes, renamed", 2)


async def test_a_request_aborted_every_time_is_answered_503_and_keeps_nothing(
    postgres_only: None, app: FastAPI, client: httpx.AsyncClient, db_url: str
) -> None:
    case = await new_case(client, "Weapons at Bela Zemlja")
    runs: list[str] = []

    def abort(conn: Connection, mine: str) -> None:
        runs.append(mine)
        # What a serializable transaction that cannot be ordered is told.
        conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$")

    on_case_lock(app, [case], abort)
    response = await client.patch(
        f"/api/v1/cases/{case}", json={"title": "Never kept", "expected_version": 1}, headers=auth(EDITOR)
    )

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json()["detail"]["code"] == "BUSY"
    assert len(runs) == retry.ATTEMPTS
    audit, rows = await updates_and_cases(db_url, [case])
    assert audit == []
    assert rows[case] == ("Weapons at Bela Zemlja", 1)


async def test_graphql_mutation_aborted_against_another_is_run_again(
    postgres_only: None, app: FastAPI, client: httpx.AsyncClient, db_url: str
) -> None:
    case = await new_case(client, "Fuel at Dheu i Bardhë")
    runs: list[str] = []

    def abort_once(conn: Connection, mine: str) -> None:
        runs.append(mine)
        if len(runs) == 1:
            conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$")

    on_case_lock(app, [case], abort_once)
    mutation = """mutation($input: UpdateCaseInput!) {
      updateCase(input: $input) { __typename ... on CasePayload { case { version title } } }
    }"""
    response = await client.post(
        "/graphql",
        json={
            "query": mutation,
            "variables": {"input": {"id": case, "title": "Renamed", "expectedVersion": 1}},
        },
        headers=auth(EDITOR),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": {"updateCase": {"__typename": "CasePayload", "case": {"version": 2, "title": "Renamed"}}}
    }
    assert len(runs) == 2
    audit, _ = await updates_and_cases(db_url, [case])
    assert [str(e.record_id) for e in audit] == [case]


async def test_a_body_of_unknown_length_is_not_kept_and_its_conflict_is_answered_503(
    postgres_only: None, app: FastAPI, client: httpx.AsyncClient, db_url: str
) -> None:
    case = await new_case(client, "Cattle at Jarinje")
    runs: list[str] = []

    def abort(conn: Connection, mine: str) -> None:
        runs.append(mine)
        conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$")

    on_case_lock(app, [case], abort)

    async def streamed() -> AsyncIterator[bytes]:
        yield b'{"title": "Never kept", '
        yield b'"expected_version": 1}'

    response = await client.patch(
        f"/api/v1/cases/{case}",
        content=streamed(),
        headers={**auth(EDITOR), "Content-Type": "application/json"},
    )

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert runs == [case]  # sent in chunks: not kept, so not run again
    audit, rows = await updates_and_cases(db_url, [case])
    assert audit == []
    assert rows[case] == ("Cattle at Jarinje", 1)
