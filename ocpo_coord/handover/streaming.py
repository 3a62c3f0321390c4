"""Package lines out of PostgreSQL: COPY streams, on one or two connections.

The database builds each line (``package_sql``); what is left here is moving the bytes.
``COPY TO STDOUT`` sends them without a Python object per row or per value. Building
lines is the export's critical path and the Python side mostly waits, so the kinds are
shared between two connections that read the session's snapshot (as ``pg_dump --jobs``
does): the server works on two cores instead of one.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg.abc import Buffer
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.db.queries import execute

# COPY's CSV format quotes a value only if it holds the delimiter, the quote character or
# a line break. JSON text holds none of these control characters raw (JSON escapes them
# all), so with them as delimiter and quote every row comes out as its text and "\n".
_COPY_LINES = "COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
# What pg_export_snapshot returns: hexadecimal groups. SET TRANSACTION SNAPSHOT takes no
# bound parameter, so the identifier is checked before it is written into the statement.
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")
_SHARE_SNAPSHOT = (
    "SELECT pg_export_snapshot() AS snapshot, pg_current_xact_id_if_assigned() IS NOT NULL AS wrote"
)


async def copy_lines(conn: AsyncConnection, statement: Select[Any]) -> AsyncIterator[Buffer]:
    """Each row's one column of JSON text and a newline, streamed by ``COPY TO STDOUT``
    in the connection's transaction (PostgreSQL with psycopg)."""
    expanded = statement.compile(dialect=conn.dialect).construct_expanded_state()
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    async with (
        driver.cursor() as cursor,
        cursor.copy(_COPY_LINES.format(query=expanded.statement), dict(expanded.parameters)) as copy,
    ):
        async for row in copy:
            yield row


@asynccontextmanager
async def snapshot_readers(session: AsyncSession, wanted: int) -> AsyncIterator[list[AsyncConnection]]:
    """Connections that read what ``session``'s transaction reads now, all the same
    state: ``wanted`` new ones that import its snapshot, or the session's own connection
    alone when no other connection can read what it reads.

    That is when the session's engine cannot give one, when the session is in a savepoint
    (a subtransaction cannot export its snapshot), and when its transaction has written:
    another transaction never sees uncommitted writes, whatever snapshot it imports, so an
    export after a correction in the same transaction would read some kinds before the
    correction and others after. PostgreSQL gives a transaction its id at its first
    write, so a transaction without one has written nothing.

    The session's own connection is not among the readers when there are others: under
    READ COMMITTED each of its statements would read a newer state than the snapshot, and
    a commit by someone else during the export would put two states in one package."""
    own = await session.connection()
    engine = session.bind
    if not isinstance(engine, AsyncEngine) or session.in_nested_transaction():
        yield [own]
        return
    shared = (await execute(session, text(_SHARE_SNAPSHOT))).one()
    if shared.wrote:
        yield [own]
        return
    snapshot = str(shared.snapshot)
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise RuntimeError(f"unexpected snapshot identifier {snapshot!r}")
    readers: list[AsyncConnection] = []
    try:
        for _ in range(wanted):
            readers.append(await engine.connect())
            reader = await readers[-1].execution_options(isolation_level="REPEATABLE READ")
            await reader.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            await reader.exec_driver_sql("SET LOCAL jit = off")
        yield readers
    finally:
        # A COPY cut short may leave its connection closed; the error that cut it short
        # is the one to report, not the failed clean-up.
        for reader in readers:
            with suppress(Exception):
                await reader.close()


async def on_two_connections(
    session: AsyncSession,
    jobs: list[tuple[int, Callable[[AsyncConnection], Awaitable[None]]]],
) -> None:
    """Run weighted jobs, each on one connection: the heaviest first, each to the
    connection with less work so far; two connections that read the session's snapshot,
    or the session's own alone (``snapshot_readers``)."""
    # COPY goes to the driver's connection, past the ORM's flush.
    await session.flush()
    async with snapshot_readers(session, 2) as connections:
        queues: list[list[Callable[[AsyncConnection], Awaitable[None]]]] = [[] for _ in connections]
        loads = [0] * len(connections)
        for weight, job in sorted(jobs, key=lambda j: -j[0]):
            lightest = loads.index(min(loads))
            queues[lightest].append(job)
            loads[lightest] += weight

        async def run(
            conn: AsyncConnection, queue: list[Callable[[AsyncConnection], Awaitable[None]]]
        ) -> None:
            for job in queue:
                await job(conn)

        # All run to their end even if one fails: cancelling a COPY half-way closes
        # its connection, which may be the session's own.
        outcomes = await asyncio.gather(
            *(run(conn, queue) for conn, queue in zip(connections, queues, strict=True)),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
