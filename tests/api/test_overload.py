"""Overload: a process serves a bounded number of requests at once and refuses the next
at once (503, Retry-After), never the probes; refusals are counted in /metrics."""

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from ocpo_coord.app import create_app
from ocpo_coord.config import Settings
from tests.conftest import auth
from tests.fixtures.records import item

LIMIT = 2
GUARD = 60.0


@pytest.fixture
async def limited(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(database_url=db_url, settings=Settings(max_requests_in_flight=LIMIT))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ocpo.test"
        ) as client:
            yield client
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()


def refused_so_far(metrics: str) -> float:
    found = re.search(r"^ocpo_http_refused_total (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_full_process_refuses_at_once_and_keeps_answering_its_probes(
    limited: httpx.AsyncClient,
) -> None:
    before = refused_so_far((await limited.get("/metrics")).text)
    resume = asyncio.Event()
    arrived = [asyncio.Event() for _ in range(LIMIT)]

    def slow_body(n: int) -> AsyncIterator[bytes]:
        body = json.dumps(item(f"Written on a slow link {n}")).encode()

        async def chunks() -> AsyncIterator[bytes]:
            yield body[:10]
            arrived[n].set()
            await resume.wait()
            yield body[10:]

        return chunks()

    # LIMIT requests in flight, each waiting for the rest of its body.
    held = [
        asyncio.create_task(
            limited.post(
                "/api/v1/intel-items",
                content=slow_body(n),
                headers={**auth("unmik.analyst"), "content-type": "application/json"},
            )
        )
        for n in range(LIMIT)
    ]
    for event in arrived:
        await asyncio.wait_for(event.wait(), timeout=GUARD)

    refused = await asyncio.wait_for(
        limited.get("/api/v1/cases", headers=auth("unmik.analyst")), timeout=GUARD
    )
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    assert refused.json()["detail"]["code"] == "SERVICE_UNAVAILABLE"
    graphql = await limited.post("/graphql", json={"query": "{ __typename }"}, headers=auth("unmik.analyst"))
    assert graphql.status_code == 503
    for probe in ("/healthz", "/readyz"):
        assert (await limited.get(probe)).status_code == 200
    metrics = await limited.get("/metrics")
    assert metrics.status_code == 200
    assert refused_so_far(metrics.text) == before + 2
    assert not any(task.done() for task in held)

    resume.set()
    for answer in await asyncio.wait_for(asyncio.gather(*held), timeout=GUARD):
        assert answer.status_code == 201, answer.text
    # Room again.
    assert (await limited.get("/api/v1/cases", headers=auth("unmik.analyst"))).status_code == 200
