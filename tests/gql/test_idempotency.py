"""A GraphQL mutation retried after a lost answer creates nothing twice: Idempotency-Key
with the REST semantics."""

import hashlib
from typing import Any

import httpx
from sqlmodel import func, select

from ocpo_coord.audit.canonical import canonical_json
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Case, IdempotencyRecord, User
from ocpo_coord.models.base import utcnow
from tests.conftest import auth
from tests.fixtures.queries import rows

CREATE = """
  mutation($input: CreateCaseInput!) {
    createCase(input: $input) {
      __typename
      ... on CasePayload { case { id reference title } }
      ... on UserError { message field }
    }
  }"""
KEY = "3f0c9a55-retried-create-case"


def create_case(title: str) -> dict[str, Any]:
    return {"query": CREATE, "variables": {"input": {"title": title, "theatre": "KOS"}}}


async def cases_titled(db_url: str, title: str) -> int:
    return int((await rows(db_url, select(func.count()).select_from(Case).where(Case.title == title)))[0])


async def test_a_retried_create_is_answered_again_and_creates_one_case(
    client: httpx.AsyncClient, db_url: str
) -> None:
    headers = {**auth("kfor.j2"), "Idempotency-Key": KEY}
    first = await client.post("/graphql", json=create_case("Fuel smuggling at Jarinje"), headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["data"]["createCase"]["__typename"] == "CasePayload", first.text
    assert "idempotent-replayed" not in first.headers

    again = await client.post("/graphql", json=create_case("Fuel smuggling at Jarinje"), headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await cases_titled(db_url, "Fuel smuggling at Jarinje") == 1

    # Without a key, the same mutation is a new request.
    plain = await client.post(
        "/graphql", json=create_case("Fuel smuggling at Jarinje"), headers=auth("kfor.j2")
    )
    assert plain.json()["data"]["createCase"]["__typename"] == "CasePayload"
    assert await cases_titled(db_url, "Fuel smuggling at Jarinje") == 2


async def test_the_same_key_with_another_mutation_is_refused(client: httpx.AsyncClient, db_url: str) -> None:
    headers = {**auth("kfor.j2"), "Idempotency-Key": KEY}
    first = await client.post("/graphql", json=create_case("Weapons cache at Likoshan"), headers=headers)
    assert first.status_code == 200
    other = await client.post("/graphql", json=create_case("Another case altogether"), headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["detail"]["field"] == "Idempotency-Key"
    assert set(other.json()["detail"]) == {"code", "message", "field"}
    assert await cases_titled(db_url, "Another case altogether") == 0


async def test_keys_are_per_user(client: httpx.AsyncClient, db_url: str) -> None:
    """Another user's key of the same text replays nothing of the first user's."""
    body = create_case("Cigarette smuggling at Merdare")
    first = await client.post("/graphql", json=body, headers={**auth("kfor.j2"), "Idempotency-Key": KEY})
    second = await client.post(
        "/graphql", json=body, headers={**auth("unmik.analyst"), "Idempotency-Key": KEY}
    )
    assert "idempotent-replayed" not in second.headers
    assert (
        second.json()["data"]["createCase"]["case"]["id"] != first.json()["data"]["createCase"]["case"]["id"]
    )


async def test_a_twin_of_a_mutation_still_running_gets_409(client: httpx.AsyncClient, db_url: str) -> None:
    """The first request with the key has claimed it and not answered yet."""
    body = create_case("Twin of a running create")
    operation = {"query": body["query"], "variables": body["variables"], "operationName": None}
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            user = (await session.exec(select(User).where(User.login == "kfor.j2"))).one()
            session.add(
                IdempotencyRecord(
                    user_id=user.id,
                    key=KEY,
                    route="POST /graphql",
                    request_hash=hashlib.sha256(canonical_json(operation).encode()).hexdigest(),
                    created_at=utcnow(),
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    twin = await client.post("/graphql", json=body, headers={**auth("kfor.j2"), "Idempotency-Key": KEY})
    assert twin.status_code == 409, twin.text
    assert twin.json()["detail"]["field"] == "Idempotency-Key"
    assert await cases_titled(db_url, "Twin of a running create") == 0


async def test_a_malformed_key_and_a_query_with_a_key(client: httpx.AsyncClient) -> None:
    short = await client.post(
        "/graphql", json=create_case("Short key"), headers={**auth("kfor.j2"), "Idempotency-Key": "abc"}
    )
    assert short.status_code == 422
    assert short.json()["detail"]["field"] == "Idempotency-Key"
    # A query changes nothing: the key is not kept, nor needed.
    for _ in range(2):
        query = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={**auth("kfor.j2"), "Idempotency-Key": KEY}
        )
        assert query.status_code == 200
        assert "idempotent-replayed" not in query.headers
