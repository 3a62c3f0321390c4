"""The service's PostgreSQL connections: long statements converted once, and pooled
connections pinged only when they have been idle (``ocpo_coord.pg_driver``)."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ocpo_coord import pg_driver
from ocpo_coord.db import make_async_engine, make_sync_engine
from tests.conftest import auth

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: SQLite's connections go through neither."""
    return "postgresql"


@pytest.fixture
def pg_url(db_url: str) -> str:
    return db_url


def _long_statement(parameters: int) -> tuple[str, dict[str, Any]]:
    """Longer than psycopg's own cache takes (4 KB, 50 parameters), like a page's."""
    names = [f"p{i}" for i in range(parameters)]
    padding = " ".join(f"/* {'x' * 60} */" for _ in range(60))
    sql = f"SELECT {' + '.join(f'CAST(:{n} AS INTEGER)' for n in names)} AS total {padding}"
    assert len(sql) > 4096
    return sql, {name: i for i, name in enumerate(names)}


async def test_a_long_statement_is_converted_once(pg_url: str) -> None:
    engine = make_async_engine(pg_url)
    sql, values = _long_statement(70)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text(sql), values)).scalar_one()
            before = pg_driver.conversions()
            for round_ in range(1, 4):
                shifted = {name: value + round_ for name, value in values.items()}
                again = (await conn.execute(text(sql), shifted)).scalar_one()
                # New values each time: the kept conversion is of the text, not the values.
                assert again == first + 70 * round_
            after = pg_driver.conversions()
    finally:
        await engine.dispose()
    assert first == sum(range(70))
    assert after.hits - before.hits == 3
    assert after.misses == before.misses


async def test_a_bulk_statement_is_not_kept(pg_url: str) -> None:
    """Past the bounds (a multi-row insert's text changes with its rows), nothing is kept."""
    engine = make_async_engine(pg_url)
    sql, values = _long_statement(pg_driver.MAX_KEPT_STATEMENT_PARAMS + 1)
    try:
        async with engine.connect() as conn:
            before = pg_driver.conversions()
            total = (await conn.execute(text(sql), values)).scalar_one()
            after = pg_driver.conversions()
    finally:
        await engine.dispose()
    assert total == sum(values.values())
    assert (after.hits, after.misses, after.currsize) == (before.hits, before.misses, before.currsize)


async def _backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


def _terminate(url: str, pid: int) -> None:
    admin = make_sync_engine(url)
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


async def test_an_idle_connection_killed_by_the_server_is_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart of the database, as a pooled connection sees it: its backend is gone."""
    monkeypatch.setattr(pg_driver, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_async_engine(pg_url)
    try:
        dead = await _backend_pid(engine)
        _terminate(pg_url, dead)
        # The same pooled connection is checked out: the ping finds it dead and the pool
        # hands out a new one.
        fresh = await _backend_pid(engine)
    finally:
        await engine.dispose()
    assert fresh != dead


async def test_without_the_ping_the_dead_connection_fails_its_request(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the idle ping is for: a connection used a moment ago is handed out as it is."""
    monkeypatch.setattr(pg_driver, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = make_async_engine(pg_url)
    try:
        _terminate(pg_url, await _backend_pid(engine))
        with pytest.raises(DBAPIError):
            await _backend_pid(engine)
        # SQLAlchemy then replaces the pool's connections: the next request is served.
        assert await _backend_pid(engine) > 0
    finally:
        await engine.dispose()


async def test_pages_are_served_through_the_kept_conversions(client: httpx.AsyncClient) -> None:
    """The service's own engine uses the kept conversions: a repeated page hits them."""
    first = await client.get("/api/v1/intel-items?limit=5", headers=auth("unmik.analyst"))
    assert first.status_code == 200, first.text
    before = pg_driver.conversions()
    again = await client.get("/api/v1/intel-items?limit=5", headers=auth("unmik.analyst"))
    after = pg_driver.conversions()
    assert again.json() == first.json()
    assert after.hits > before.hits
    assert after.misses == before.misses
