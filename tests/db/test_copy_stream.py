"""PostgreSQL's streamed ``COPY`` (``ocpo_coord.db.copy.copy_rows``): rows read from an
iterable as they are sent, and a connection lost in the middle of a copy replaced by
the pool rather than handed out again."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from ocpo_coord.db import copy, pg_driver
from ocpo_coord.db.engine import make_async_engine, make_sync_engine
from ocpo_coord.models import AuditEvent
from ocpo_coord.models.base import table_of
from tests.fixtures.databases import terminate_backend

pytestmark = pytest.mark.postgres

EVENTS = table_of(AuditEvent)
COLUMNS = [c.name for c in EVENTS.c]
AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: elsewhere bulk rows take one executemany."""
    return "postgresql"


def _stream(label: str, count: int, *, after_each: Any = None) -> Iterator[dict[str, Any]]:
    """Audit entries, generated one at a time; ``after_each(n)`` once the n-th is taken."""
    for n in range(count):
        yield {
            "id": uuid.uuid4(),
            "at": AT,
            "actor_id": None,
            "actor_name": label,
            "agency_id": None,
            "request_id": f"{label}-{n}",
            "action": "copy.stream",
            "record_kind": None,
            "record_id": None,
            "record_ids": None,
            "before": None,
            "after": {"n": n},
            "detail": "",
            "prev_hash": "",
            "hash": uuid.uuid4().hex,
        }
        if after_each is not None:
            after_each(n)


def _names() -> list[str]:
    # The sequence number is the database's to give.
    return [name for name in COLUMNS if name != "seq"]


def _count(conn: Connection, label: str) -> int:
    return int(conn.execute(select(func.count()).where(EVENTS.c.actor_name == label)).scalar_one())


def test_rows_are_read_from_the_iterable_as_they_are_sent(engine: Engine) -> None:
    read: list[int] = []
    with engine.begin() as conn:
        sent = copy.copy_rows(conn, EVENTS, _names(), _stream("streamed", 3000, after_each=read.append))
    assert sent == len(read) == 3000
    with engine.connect() as conn:
        assert _count(conn, "streamed") == 3000


def test_a_row_set_without_a_defaulted_column_is_refused(engine: Engine) -> None:
    """A copy would leave the column to the database, where an insert runs the model's
    default: the copy is refused before anything is sent."""
    names = [name for name in _names() if name != "prev_hash"]
    with pytest.raises(ValueError, match="without prev_hash"), engine.begin() as conn:
        copy.copy_rows(conn, EVENTS, names, _stream("no-default", 10))
    with engine.connect() as conn:
        assert _count(conn, "no-default") == 0


def _killed_midway(url: str, pid: int) -> Any:
    def after_each(n: int) -> None:
        if n == 100:
            terminate_backend(url, pid)

    return after_each


def test_a_connection_lost_during_a_copy_is_not_handed_out_again(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's asyncio driver: the backend dies while the rows stream. The copy
    fails as a lost connection, and the next request gets a live connection at once,
    not the dead one (no idle ping would catch a connection returned a moment ago)."""
    monkeypatch.setattr(pg_driver, "PING_AFTER_IDLE_SECONDS", 3600.0)

    async def scenario() -> tuple[int, int, DBAPIError]:
        engine = make_async_engine(db_url)
        try:
            async with engine.connect() as conn:
                dead = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                rows = _stream("lost", 20_000, after_each=_killed_midway(db_url, dead))
                with pytest.raises(DBAPIError) as failed:
                    await conn.run_sync(lambda c: copy.copy_rows(c, EVENTS, _names(), rows))
            async with engine.connect() as conn:
                fresh = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            return dead, fresh, failed.value
        finally:
            await engine.dispose()

    dead, fresh, error = asyncio.run(scenario())
    assert error.connection_invalidated
    assert fresh != dead
    check = make_sync_engine(db_url)
    try:
        with check.connect() as conn:
            assert _count(conn, "lost") == 0
    finally:
        check.dispose()


def test_the_synchronous_driver_also_drops_a_connection_lost_during_a_copy(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_driver, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            dead = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            rows = _stream("lost-sync", 20_000, after_each=_killed_midway(db_url, dead))
            with pytest.raises(DBAPIError) as failed:
                copy.copy_rows(conn, EVENTS, _names(), rows)
        with engine.connect() as conn:
            fresh = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()
    assert failed.value.connection_invalidated
    assert fresh != dead
