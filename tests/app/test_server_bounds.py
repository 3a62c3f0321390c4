"""The HTTP server's own bounds, over real sockets: a client cannot hold a worker with a
huge header, half a header, or a body that stops arriving."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from ocpo_coord.config import Settings
from ocpo_coord.http_server import BoundedHttpProtocol
from tests.conftest import auth
from tests.fixtures.records import item

GUARD = 15.0


@pytest.fixture
def backend() -> str:
    """The server's bounds do not depend on the database: SQLite only."""
    return "sqlite"


QUICK = Settings(max_header_bytes=16 * 1024, header_timeout_seconds=1, body_idle_timeout_seconds=1)


class QuickProtocol(BoundedHttpProtocol):
    settings = QUICK


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[int]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=QuickProtocol, lifespan="off", log_config=None
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    for _ in range(1000):
        if running.started:
            break
        await asyncio.sleep(0.01)
    port: int = running.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        running.should_exit = True
        await asyncio.wait_for(task, timeout=GUARD)


async def test_a_huge_header_is_refused_before_it_is_read(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    answer = asyncio.create_task(reader.read(65536))
    writer.write(b"GET /api/v1/cases HTTP/1.1\r\nHost: ocpo.test\r\nAuthorization: Bearer ")
    sent, chunk, limit = 0, b"a" * 65536, 64 * 1024 * 1024
    try:
        while not answer.done() and sent < limit:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
            await asyncio.sleep(0)
    except ConnectionError:
        pass
    head = await asyncio.wait_for(answer, timeout=GUARD)
    writer.close()
    assert head.startswith(b"HTTP/1.1 431 "), head[:200]
    body = json.loads(head.split(b"\r\n\r\n", 1)[1])
    assert body["detail"]["code"] == "HEADERS_TOO_LARGE"
    # The server stopped reading long before the 64 MB were sent.
    assert sent < limit


async def test_headers_of_a_usual_size_are_served(server: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server}") as client:
        response = await client.get(
            "/api/v1/cases", headers={**auth("unmik.analyst"), "X-Padding": "p" * 8000}
        )
    assert response.status_code == 200


async def test_half_a_header_is_not_waited_for(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: ocpo.test\r\nX-Slow: ")
    await writer.drain()
    head = await asyncio.wait_for(reader.read(65536), timeout=GUARD)
    assert head.startswith(b"HTTP/1.1 408 "), head[:200]
    assert await asyncio.wait_for(reader.read(), timeout=GUARD) == b""  # and closed
    writer.close()


def post_head(port: int, length: int) -> bytes:
    return (
        f"POST /api/v1/intel-items HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {auth('unmik.analyst')['Authorization'].split()[1]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def test_a_body_that_stops_arriving_is_not_waited_for(server: int, client: httpx.AsyncClient) -> None:
    body = json.dumps(item("Sent over a link that went quiet")).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(post_head(server, len(body)) + body[:20])
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=GUARD) == b""  # closed, nothing answered
    writer.close()
    listed = await client.get("/api/v1/intel-items", headers=auth("unmik.analyst"))
    assert "link that went quiet" not in listed.text


async def test_a_slow_body_that_keeps_coming_is_served(server: int) -> None:
    body = json.dumps(item("Sent over a slow but steady link")).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(post_head(server, len(body)))
    for start in range(0, len(body), len(body) // 4 + 1):
        writer.write(body[start : start + len(body) // 4 + 1])
        await writer.drain()
        await asyncio.sleep(0.4)  # under the idle bound each time, over it in all
    head = await asyncio.wait_for(reader.read(65536), timeout=GUARD)
    writer.close()
    assert head.startswith(b"HTTP/1.1 201 "), head[:300]
