"""A database that cannot be reached is an outage, not a bug: 503 with Retry-After.

Refused or lost connections, a server that stopped answering (``db_bounds``), a pool
with no free connection in time, a statement the server cancelled for its time limit,
a SQLite file locked past its busy timeout: the request is answered 503
``SERVICE_UNAVAILABLE`` with ``Retry-After``, in the one error shape, and logged in one
line without a traceback (an outage would otherwise write one per request). Anything
else the database refuses is a fault of the service: 500, with its traceback (made
safe by ``log_redaction``).
"""

import asyncio
import logging
import sqlite3
from collections.abc import Iterator

import psycopg
from fastapi import Request
from fastapi.responses import JSONResponse
from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from ocpo_coord.db.bounds import answer_within
from ocpo_coord.db.engine import READ_ONLY
from ocpo_coord.exceptions import OcpoError
from ocpo_coord.log_redaction import safe_message

RETRY_AFTER_SECONDS = 5

# SQLSTATE classes and codes that say the server cannot serve now: connection
# exceptions, insufficient resources, operator intervention (shutdown, cancelled).
_UNAVAILABLE_CLASSES = ("08", "53", "57")
_UNAVAILABLE_SQLITE = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR"})

log = logging.getLogger("ocpo_coord.unavailable")


class ServiceUnavailable(OcpoError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}

    def __init__(self, message: str = "the database is unavailable; try again shortly") -> None:
        super().__init__(message)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, GraphQLError) and current.original_error is not None:
            current = current.original_error
        elif isinstance(current, DBAPIError) and current.orig is not None:
            current = current.orig  # the driver's error, which SQLAlchemy wraps
        else:
            current = current.__cause__ or current.__context__


def database_unavailable(exc: BaseException) -> bool:
    for current in _chain(exc):
        if isinstance(current, PoolTimeout):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError):
            # No SQLSTATE: the client's own failure to reach or hear the server.
            state = current.sqlstate
            return state is None or state.startswith(_UNAVAILABLE_CLASSES)
        if isinstance(current, sqlite3.OperationalError):
            return getattr(current, "sqlite_errorname", "") in _UNAVAILABLE_SQLITE
        if isinstance(current, ConnectionError | TimeoutError):
            return True
    return False


# SQLSTATEs of a transaction PostgreSQL aborted so that another could go on: a
# deadlock it broke, or a serializable transaction that could not be ordered. Nothing
# of it was kept, and the same work run again succeeds (``api/retry``).
_CONFLICT_STATES = frozenset({"40P01", "40001"})


def transaction_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is (or was caused by) a deadlock or serialization failure."""
    return any(
        isinstance(current, psycopg.Error) and current.sqlstate in _CONFLICT_STATES for current in _chain(exc)
    )


def answer_conflict(request: Request, exc: BaseException) -> JSONResponse:
    """The 503 for a transaction the database aborted against another, when it cannot be
    run again (``api/retry``): the caller may send it again; nothing of it was kept."""
    request.state.rollback = True
    request.state.transaction_conflict = True
    log.warning(
        "%s %s: transaction aborted against another (%s); run again while it may be, else answered 503",
        request.method,
        request.url.path,
        safe_message(exc),
    )
    body = {
        "detail": {
            "code": "BUSY",
            "message": "the request crossed another one in the database; send it again",
            "field": None,
        }
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


def answer_unavailable(request: Request, exc: BaseException) -> JSONResponse:
    """The 503 for an outage, and its one log line."""
    request.state.rollback = True
    log.warning(
        "%s %s answered 503: database unavailable (%s)",
        request.method,
        request.url.path,
        safe_message(exc),
    )
    error = ServiceUnavailable()
    return JSONResponse(
        {"detail": {"code": error.code, "message": error.message, "field": None}},
        status_code=error.status_code,
        headers=ServiceUnavailable.headers,
    )


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's handler for database errors: outages and aborted transactions answered
    here, faults passed on to the last-resort 500."""
    if transaction_conflict(exc):
        return answer_conflict(request, exc)
    if database_unavailable(exc):
        return answer_unavailable(request, exc)
    raise exc


def set_aside_outage(errors: list[GraphQLError], request: Request) -> list[GraphQLError]:
    """A GraphQL operation's errors without those of an outage, which is kept on the
    request, to be answered 503 for the whole operation (``raise_outage``)."""
    kept = []
    for error in errors:
        original = error.original_error
        if original is not None and (database_unavailable(original) or transaction_conflict(original)):
            request.state.database_outage = original
        else:
            kept.append(error)
    return kept


def raise_outage(request: Request) -> None:
    outage = getattr(request.state, "database_outage", None)
    if isinstance(outage, Exception):
        raise outage


async def database_answers(engine: AsyncEngine, *, within: float) -> bool:
    """Whether the database answers a trivial query within ``within`` seconds (the
    readiness probe). The connection's own bound fires first, closing a connection that
    hangs; the outer one covers waiting for the pool and connecting."""
    try:
        async with asyncio.timeout(within):
            with answer_within(within * 0.8):
                async with engine.connect() as connection:
                    # A reader: on SQLite it must not queue behind the writers it probes.
                    await connection.execution_options(**{READ_ONLY: True})
                    await connection.execute(text("SELECT 1"))
    except Exception:  # the probe reports, it never raises
        return False
    return True
