"""The service's pooled PostgreSQL connections are pinged only when they have been idle
(``ocpo_coord.db.pg_driver``)."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ocpo_coord.db import pg_driver
from ocpo_coord.db.engine import make_async_engine
from tests.fixtures.databases import terminate_backend

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: an SQLite file's engine pings on every checkout."""
    return "postgresql"


@pytest.fixture
def pg_url(db_url: str) -> str:
    return db_url


async def _backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_an_idle_connection_killed_by_the_server_is_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart of the database, as a pooled connection sees it: its backend is gone."""
    monkeypatch.setattr(pg_driver, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_async_engine(pg_url)
    try:
        dead = await _backend_pid(engine)
        terminate_backend(pg_url, dead)
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
        terminate_backend(pg_url, await _backend_pid(engine))
        with pytest.raises(DBAPIError):
            await _backend_pid(engine)
        # SQLAlchemy then replaces the pool's connections: the next request is served.
        assert await _backend_pid(engine) > 0
    finally:
        await engine.dispose()
