"""One GraphQL request, many resolvers, one session: every field answers, every read
is audited, a failed field ends the transaction, and nothing internal reaches the caller.

strawberry resolves sibling fields concurrently and the request's resolvers share its
one session and transaction. Each test sends what an ordinary signed-in user can send
(aliases of lookups, a query about a handover they are no party to) and checks the
answer, the audit log and that the database is free for the next writer.
"""

import asyncio
import sqlite3
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func
from sqlalchemy.engine import make_url
from sqlmodel import select

from ocpo_coord.api.errors import internal_error_message
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.case.repository import CaseRepository
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import AuditEvent
from tests.conftest import auth, unreleased_items
from tests.fixtures.queries import audit_rows
from tests.fixtures.records import protected as _protected

AGENCY_LOGINS = ("unmik.analyst", "eulex.chief", "kfor.j2", "omik.adviser", "interpol.liaison")


async def _graphql(
    client: httpx.AsyncClient, login: str, query: str, rid: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={**auth(login), "X-Request-ID": rid},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _listed(client: httpx.AsyncClient, login: str, path: str) -> list[dict[str, Any]]:
    response = await client.get(path, params={"limit": 50}, headers=auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _read_entries(db_url: str, rid: str) -> dict[str, int]:
    """The single-record read entries of one request: record id -> how many."""
    counts: dict[str, int] = {}
    for row in await audit_rows(db_url):
        if row.request_id == rid and row.action.endswith(".read"):
            counts[str(row.record_id)] = counts.get(str(row.record_id), 0) + 1
    return counts


@pytest.mark.parametrize("login", AGENCY_LOGINS)
async def test_ten_lookups_in_one_query_all_answer_and_each_protected_one_is_audited(
    client: httpx.AsyncClient, db_url: str, engine: Engine, login: str
) -> None:
    # Their own new items (RESTRICTED, TLP:AMBER) beside what the demo lets them read.
    await unreleased_items(client, login, 6, f"Lookup {login}")
    items = (await _listed(client, login, "/api/v1/intel-items"))[:10]
    assert len(items) == 10
    aliases = " ".join(
        f'i{n}: intelItem(id: "{item["id"]}") {{ id title markings {{ classification tlp }} }}'
        for n, item in enumerate(items)
    )
    body = await _graphql(client, login, f"{{ {aliases} }}", f"ten-{login}")
    assert "errors" not in body, body["errors"]
    assert [body["data"][f"i{n}"]["id"] for n in range(10)] == [item["id"] for item in items]
    protected = [item["id"] for item in items if _protected(item)]
    assert protected
    assert await _read_entries(db_url, f"ten-{login}") == dict.fromkeys(protected, 1)
    assert verify_database(engine).ok


async def test_twenty_two_node_lookups_of_every_kind_all_answer_and_are_audited(
    client: httpx.AsyncClient, db_url: str, engine: Engine
) -> None:
    login = "eulex.chief"
    records: list[dict[str, Any]] = []
    for path in ("/api/v1/cases", "/api/v1/intel-items", "/api/v1/tasks"):
        records += (await _listed(client, login, path))[:8]
    records = records[:22]
    assert len(records) == 22
    aliases = " ".join(
        f'n{n}: node(id: "{record["id"]}") {{ id ... on Case {{ markings {{ tlp }} }} '
        f"... on IntelItem {{ markings {{ tlp }} }} ... on Task {{ markings {{ tlp }} }} }}"
        for n, record in enumerate(records)
    )
    body = await _graphql(client, login, f"{{ {aliases} }}", "twenty-two")
    assert "errors" not in body, body["errors"]
    assert [body["data"][f"n{n}"]["id"] for n in range(22)] == [r["id"] for r in records]
    protected = [r["id"] for r in records if _protected(r)]
    assert len(protected) > 10
    assert await _read_entries(db_url, "twenty-two") == dict.fromkeys(protected, 1)
    assert verify_database(engine).ok


HANDOVER_AND_CONSENT = """
  query($h: ID!) {
    handoverLines(handoverId: $h, first: 5) { totalCount }
    consentRequests(first: 5) { totalCount }
  }"""


def _write_lock_is_free(db_url: str) -> None:
    """A write from another connection gets the lock at once (no busy wait at all):
    nothing the request did is still holding it. PostgreSQL has no such lock."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return
    conn = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_a_query_about_someone_elses_handover_fails_cleanly_and_locks_nothing(
    app: FastAPI, db_url: str, engine: Engine
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as client:
        handovers = await client.get("/api/v1/handovers", headers=auth("unmik.chief"))
        handover_id = handovers.json()[0]["id"]
        # kfor.j2 is no party to the UNMIK to EULEX handover; the second time with an id
        # that names nothing at all.
        for n, asked in enumerate((handover_id, "00000000-0000-4000-8000-000000000000")):
            body = await _graphql(client, "kfor.j2", HANDOVER_AND_CONSENT, f"kfor-{n}", {"h": asked})
            assert body["data"] is None
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
                (["handoverLines"], "NOT_FOUND")
            ], body
            assert "rollback" not in str(body).lower()
            _write_lock_is_free(db_url)
            assert (await client.get("/readyz")).status_code == 200
            written = await client.post(
                "/api/v1/cases",
                json={"title": f"After the refusal {n}", "theatre": "KOS"},
                headers=auth("kfor.j2"),
            )
            assert written.status_code == 201, written.text
        # Each refusal is on record, in a chain that still verifies.
        refused = [r for r in await audit_rows(db_url) if r.action == "access.refused"]
        assert {r.request_id for r in refused} >= {"kfor-0", "kfor-1"}
    assert verify_database(engine).ok


async def test_an_unexpected_error_answers_only_the_request_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SELECT secret FROM internals: connection string postgres://operator")

    monkeypatch.setattr(CaseRepository, "get", broken)
    body = await _graphql(
        client,
        "unmik.analyst",
        '{ cases(first: 2) { totalCount } case(id: "00000000-0000-4000-8000-000000000000") { id } }',
        "masked-field",
    )
    assert body["data"]["cases"]["totalCount"] > 0  # the rest of the answer stands
    assert body["errors"] == [
        {
            "message": internal_error_message("masked-field"),
            "locations": [{"line": 1, "column": 34}],
            "path": ["case"],
            "extensions": {"code": "INTERNAL_ERROR"},
        }
    ]


async def test_an_error_outside_any_field_is_masked_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The refusal's audit entry is written after the fields ran, by the operation
    # itself: an error there is no field's.
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Can't reconnect until invalid transaction is rolled back")

    monkeypatch.setattr("ocpo_coord.gql.refusals.record_refusal", broken)
    body = await _graphql(
        client, "unmik.analyst", '{ node(id: "00000000-0000-4000-8000-000000000000") { id } }', "masked-op"
    )
    assert body["errors"] == [
        {"message": internal_error_message("masked-op"), "extensions": {"code": "INTERNAL_ERROR"}}
    ]


async def test_expected_errors_keep_their_messages(client: httpx.AsyncClient) -> None:
    missing = await _graphql(
        client, "unmik.analyst", '{ node(id: "00000000-0000-4000-8000-000000000000") { id } }', "expected"
    )
    assert missing["errors"][0]["message"] == "record not found"
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    invalid = await _graphql(client, "unmik.analyst", "{ cases(first: 5000) { totalCount } }", "invalid")
    assert invalid["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}
    unknown = await _graphql(client, "unmik.analyst", "{ noSuchField }", "unknown")
    assert "noSuchField" in unknown["errors"][0]["message"]


async def test_a_session_serves_concurrent_and_cancelled_operations_to_their_end(db_url: str) -> None:
    """The mechanism under the tests above: many tasks on one session at once, and some
    of them cancelled while their statement runs, leave the session whole."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:

            async def count() -> int:
                return int((await session.exec(select(func.count()).select_from(AuditEvent))).one())

            tasks = [asyncio.ensure_future(count()) for _ in range(12)]
            await asyncio.sleep(0)  # every task has started and waits on the session
            for task in tasks[::3]:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            counted = {r for r in results if not isinstance(r, BaseException)}
            assert len(counted) == 1
            assert sum(isinstance(r, asyncio.CancelledError) for r in results) == 4
            # The session and its connection are still good: the transaction ends cleanly.
            assert await count() == counted.pop()
            await session.commit()
        _write_lock_is_free(db_url)
    finally:
        await engine.dispose()
