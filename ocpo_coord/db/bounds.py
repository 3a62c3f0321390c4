"""No request waits on PostgreSQL for ever: connecting, each statement and each commit
have a bound, and past it the connection is closed and the request fails at once.

A server that has stopped answering (paused, overloaded, a network path that drops
packets without resetting) still has its kernel acknowledge what is sent: no TCP
timeout fires, and psycopg waits for the answer indefinitely. So every wait on a
connection's socket (a statement, a commit, a rollback, a ping) is bounded here, in
the one place psycopg waits (``AsyncConnection.wait``). A connection that has not
answered in time is in an unknown state: it is closed, SQLAlchemy then sees it as
disconnected and replaces the pool's connections, and the database's recovery is
noticed by the next request.

The server also gets ``statement_timeout``, shorter than the bound: a statement that
is merely slow is cancelled by the server itself, and its connection stays usable.
``answer_within`` gives a shorter bound to one piece of work (the readiness probe).
"""

import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from sqlalchemy.engine import make_url

RV = TypeVar("RV")

# How much longer than the server's statement_timeout the client waits for an answer:
# the server's own cancellation, which keeps the connection, comes first.
CLIENT_GRACE_SECONDS = 2.0

_answer_within: ContextVar[float | None] = ContextVar("ocpo_db_answer_within", default=None)


@contextmanager
def answer_within(seconds: float) -> Iterator[None]:
    """Within this block, a connection that does not answer in ``seconds`` is closed."""
    token = _answer_within.set(seconds)
    try:
        yield
    finally:
        _answer_within.reset(token)


class DatabaseDidNotAnswer(psycopg.OperationalError):
    """The server took longer than the bound to answer; the connection was closed."""


class BoundedConnection(psycopg.AsyncConnection[Any]):
    answer_timeout: float = 30.0 + CLIENT_GRACE_SECONDS

    # psycopg's signature, overridden: its timeout parameter is its own.
    async def wait(
        self,
        gen: PQGen[RV],
        interval: float = 0.1,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> RV:
        if timeout is not None:  # psycopg's own bounded waits (cancelling a query)
            return await super().wait(gen, interval, timeout)
        bound = _answer_within.get() or self.answer_timeout
        started = time.monotonic()
        try:
            return await super().wait(gen, interval, bound)
        except psycopg.OperationalError:
            if time.monotonic() - started < bound:
                raise  # the server's own error
            self.pgconn.finish()
            raise DatabaseDidNotAnswer(f"the database did not answer within {bound:g} s") from None


def connection_settings(
    url: str, *, connect_timeout: float, statement_timeout: float
) -> tuple[str, dict[str, Any]]:
    """The libpq connection string and the settings every service connection is opened
    with; also read by the benchmark's bare connections, so they cost the same."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    statement_ms = max(1, round(statement_timeout * 1000))
    return conninfo, {
        # libpq counts whole seconds, two at least.
        "connect_timeout": max(2, math.ceil(connect_timeout)),
        "options": f"-c statement_timeout={statement_ms}",
    }


def connector(
    url: str, *, connect_timeout: float, statement_timeout: float
) -> Callable[[], Awaitable[BoundedConnection]]:
    """SQLAlchemy's ``async_creator`` for ``url``: bounded connections."""
    conninfo, settings = connection_settings(
        url, connect_timeout=connect_timeout, statement_timeout=statement_timeout
    )

    async def connect() -> BoundedConnection:
        connection = await BoundedConnection.connect(conninfo, **settings)
        connection.answer_timeout = statement_timeout + CLIENT_GRACE_SECONDS
        return connection

    return connect
