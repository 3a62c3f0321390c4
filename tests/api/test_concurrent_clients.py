"""Several clients at once on the served service: readers whose reads append audit
entries, writers, and GraphQL queries whose fields fail. Nobody is answered 5xx
("database is locked"): on the embedded database every request waits its turn.

The service runs as it is deployed (uvicorn, on a loopback port, in a thread); each
client is a thread with its own HTTP connection and a real token.
"""

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ocpo_coord.app import create_app
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.config import Environment, Settings
from tests.conftest import auth, token_for

CLIENTS = 6
ROUNDS = 10


LOOKUPS = """
  query($first: Int!) {
    intelItems(first: $first) { nodes { id markings { classification } cases { id } } }
    cases(first: 5) { totalCount nodes { id tasks(first: 3) { nodes { id } } } }
  }"""
SOMEONE_ELSES_HANDOVER = """
  query($h: ID!) {
    handoverLines(handoverId: $h, first: 5) { totalCount }
    consentRequests(first: 5) { totalCount }
  }"""


def _client(base_url: str, login: str, handover_id: str, number: int) -> list[str]:
    """One client's session of work; what went wrong, as lines."""
    problems: list[str] = []
    headers = {"Authorization": f"Bearer {token_for(login)}"}

    def check(response: httpx.Response, what: str) -> httpx.Response:
        # A GraphQL answer is a 200 even when a field failed: its errors are read too.
        if response.status_code >= 500 or "INTERNAL_ERROR" in response.text or "locked" in response.text:
            problems.append(f"{login} {what}: {response.status_code} {response.text[:200]}")
        return response

    def lookups(http: httpx.Client) -> str:
        """One query naming each item the client may read, by id, as aliases."""
        listed = check(http.get("/api/v1/intel-items", params={"limit": 10}), "list for lookups")
        items = listed.json()["items"] if listed.status_code == 200 else []
        return (
            "{ " + " ".join(f'i{n}: node(id: "{item["id"]}") {{ id }}' for n, item in enumerate(items)) + " }"
        )

    steps: list[Callable[[httpx.Client, int], object]] = [
        lambda http, n: check(http.get("/api/v1/intel-items", params={"limit": 20}), "list intel"),
        lambda http, n: check(
            http.post("/graphql", json={"query": LOOKUPS, "variables": {"first": 10}}), "graphql lists"
        ),
        lambda http, n: check(http.post("/graphql", json={"query": lookups(http)}), "graphql lookups"),
        lambda http, n: check(
            http.post(
                "/api/v1/cases",
                json={"title": f"Client {number} round {n}", "theatre": "KOS"},
            ),
            "create case",
        ),
        lambda http, n: check(
            http.post("/graphql", json={"query": SOMEONE_ELSES_HANDOVER, "variables": {"h": handover_id}}),
            "graphql refused",
        ),
        lambda http, n: check(http.get("/readyz"), "readyz"),
    ]
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        for n in range(ROUNDS):
            for step in steps:
                step(http, n)
    return problems


def test_concurrent_readers_and_writers_all_get_an_answer(base_url: str, db_url: str, engine: Engine) -> None:
    handovers = httpx.get(
        f"{base_url}/api/v1/handovers", headers={"Authorization": f"Bearer {token_for('unmik.chief')}"}
    )
    handover_id = handovers.json()[0]["id"]
    logins = ["kfor.j2", "eulex.chief", "omik.adviser", "kfor.j2", "interpol.liaison", "unodc.expert"]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(
            pool.map(lambda n: _client(base_url, logins[n % len(logins)], handover_id, n), range(CLIENTS))
        )
    problems = [line for lines in results for line in lines]
    assert not problems, "\n".join(problems[:20])
    assert verify_database(engine).ok


async def test_a_turn_that_never_comes_is_a_retryable_503_within_the_setting(
    db_url: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("only SQLite has one write lock for the whole database")
    settings = Settings(environment=Environment.TEST, sqlite_wait_seconds=0.5)
    app = create_app(database_url=db_url, settings=settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # Another process (an operator's script, a command) holds the write lock meanwhile.
    holder = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as client:
            holder.execute("BEGIN IMMEDIATE")
            refused = await client.post(
                "/api/v1/cases", json={"title": "While locked", "theatre": "KOS"}, headers=auth("kfor.j2")
            )
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["detail"]["code"] == "BUSY"
            assert "locked" not in refused.text
            holder.execute("ROLLBACK")
            retried = await client.post(
                "/api/v1/cases", json={"title": "While locked", "theatre": "KOS"}, headers=auth("kfor.j2")
            )
            assert retried.status_code == 201, retried.text
            titles = await client.get(
                "/api/v1/cases", params={"text": "While locked"}, headers=auth("kfor.j2")
            )
            assert titles.json()["total_count"] == 1  # the refused attempt kept nothing
    finally:
        holder.close()
        await app.state.sessionmaker.kw["bind"].dispose()
